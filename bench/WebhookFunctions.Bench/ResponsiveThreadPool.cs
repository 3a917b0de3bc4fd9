using System.Runtime.CompilerServices;

namespace WebhookFunctions.Bench;

/// <summary>
/// The harness's own thread pool starts with 64 threads. The bench process times everything from inside: its
/// receiver stamps arrivals and its clients stamp answers on pool threads. With the default minimum (one per
/// core, two here) the test suite's process was measured starving for up to a second at a time under the same
/// kind of load (see the tests' ResponsiveThreadPool), which would be charged to the service, or to the raw loop
/// that runs in this process. The hosts under test are separate processes and keep their defaults.
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
