using System.Runtime.CompilerServices;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// Gives the test process a thread pool that answers at once.
/// <para>
/// The receivers that judge timing (the cross-host throttle test above all) run in this process, and stamp a
/// request when the pool runs its handler. With the default minimum (one thread per core, two here) the pool
/// starved for 0.5–1 s every 10–40 s while two host processes delivered to it: a detector in the test saw
/// <c>Task.Delay(10)</c> come back up to a second late with 4–7 threads and work waiting, while a dedicated
/// thread never stalled. Each stall stamped a second of arrivals at once: 39 in one second from hosts whose own
/// record showed at most 21 starts. With a higher minimum the same run measured 21 at the receiver too.
/// </para>
/// </summary>
internal static class ResponsiveThreadPool
{
    [ModuleInitializer]
    internal static void Raise()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
