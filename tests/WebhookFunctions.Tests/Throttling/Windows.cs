namespace WebhookFunctions.Tests.Throttling;

/// <summary>What a receiver measures of a rate limit: the most arrivals in any sliding one-second window.</summary>
public static class Windows
{
    /// <summary>The largest number of arrivals within one second of each other (every window [t, t + 1 s) that starts at an arrival).</summary>
    public static int MostInOneSecond(IEnumerable<DateTimeOffset> arrivals)
    {
        var sorted = arrivals.Order().ToArray();
        var most = 0;
        var end = 0;
        for (var start = 0; start < sorted.Length; start++)
        {
            end = Math.Max(end, start);
            while (end < sorted.Length && sorted[end] - sorted[start] < TimeSpan.FromSeconds(1))
            {
                end++;
            }

            most = Math.Max(most, end - start);
        }

        return most;
    }
}
