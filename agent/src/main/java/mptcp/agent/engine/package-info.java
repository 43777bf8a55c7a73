/**
 * The interception engine: rewrites call sites of platform methods to handlers ({@code Redirect}, {@code Engine}) and
 * defines what an intercepted library is ({@code InterceptionModule}). Names no library. Imports only {@code log},
 * ASM and the native layer's private directory ({@code mptcp.sys.PrivateDir}, where the class cache lives).
 */
package mptcp.agent.engine;
