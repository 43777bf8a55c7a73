/**
 * The interception engine: rewrites call sites of platform methods to handlers ({@code Redirect}, {@code Engine}) and
 * defines what an intercepted library is ({@code InterceptionModule}). Names no library. Imports only {@code log} and
 * ASM.
 */
package mptcp.agent.engine;
