package smux.bench.core;

import java.util.List;

/**
 * What a report hears while a run goes on: each section as it starts and its figures as they come,
 * so that someone watching a run of a few minutes sees it move. Every method does nothing unless
 * a report overrides it.
 */
public interface BenchListener {
    /** The run starts. */
    default void started(Plan plan, Schedule schedule, Machine machine) {
    }

    /** The throughput section starts. */
    default void throughputStarted() {
    }

    /**
     * One throughput comparison ended: its rows, raw TCP's first.
     *
     * @param otherCpus the CPUs other processes used meanwhile, NaN if unknown
     */
    default void compared(List<ThroughputRow> rows, double otherCpus) {
    }

    /** The round-trip section starts. */
    default void roundTripsStarted() {
    }

    /**
     * The round-trip section ended: its rows, raw TCP's first.
     *
     * @param otherCpus the CPUs other processes used meanwhile, NaN if unknown
     */
    default void roundTrips(List<RoundTripRow> rows, double otherCpus) {
    }

    /** The heap-per-idle-stream section starts. */
    default void idleStarted() {
    }

    /** One transport's idle streams were measured. */
    default void idle(IdleStreams.Result result) {
    }

    /** The NIO section is skipped: the nio transport is not in the run. */
    default void nioSkipped() {
    }

    /** The NIO section starts. */
    default void nioStarted() {
    }

    /**
     * The NIO section ended.
     *
     * @param result its figures, or null if it could not start
     * @param error why it could not start, or null
     */
    default void nio(NioSessions.Result result, String error) {
    }

    /** A case left threads behind: one line that says which case and how many. */
    default void leaked(String what) {
    }

    /** The run ended. */
    default void finished(Results results) {
    }
}
