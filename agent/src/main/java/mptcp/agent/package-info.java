/**
 * The agent inside the application's JVM: {@link mptcp.agent.Agent} reads the configuration and installs the
 * interception modules. May import every runtime package (config, log, os, policy, engine, jdk, netty, report), never
 * {@code cli} or {@code demo}.
 */
package mptcp.agent;
