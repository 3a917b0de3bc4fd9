using System.Diagnostics;

namespace WebhookFunctions.Bench;

/// <summary>Latency samples of one operation, and the percentiles the report quotes.</summary>
public sealed record Latency(string Name, int Concurrency, double[] Milliseconds, int Errors, TimeSpan Elapsed)
{
    public double P50 => Percentile(0.50);

    public double P95 => Percentile(0.95);

    public double P99 => Percentile(0.99);

    public double PerSecond => Milliseconds.Length / Elapsed.TotalSeconds;

    private double Percentile(double p)
    {
        if (Milliseconds.Length == 0)
        {
            return double.NaN;
        }

        var sorted = Milliseconds.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    /// <summary>Runs <paramref name="operation"/> <paramref name="count"/> times over <paramref name="concurrency"/> workers, after a warm-up.</summary>
    public static async Task<Latency> MeasureAsync(string name, int concurrency, int count, Func<int, Task<bool>> operation, int warmup = 50)
    {
        for (var i = 0; i < warmup; i++)
        {
            await operation(-1 - i);
        }

        var samples = new double[count];
        var errors = 0;
        var next = -1;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                var started = Stopwatch.GetTimestamp();
                var ok = await operation(index);
                samples[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (!ok)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        total.Stop();
        return new Latency(name, concurrency, samples, errors, total.Elapsed);
    }
}
