/**
 * The JDK module: the JDK's socket natives it intercepts (one table, {@code JdkModule}) and their handlers, which
 * apply the policy. Imports {@code engine}, {@code policy}, {@code config}, {@code log} and the native layer.
 */
package mptcp.agent.jdk;
