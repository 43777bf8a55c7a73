/**
 * The demos and the network-namespace test bed they share with the integration tests ({@code DualPathTopology}).
 * Imports {@code config}, {@code jdk} (to read a channel's fd) and the native layer; never {@code cli}.
 */
package mptcp.agent.demo;
