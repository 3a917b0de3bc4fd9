namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>The system clock plus an offset that tests move forward instead of sleeping.</summary>
public sealed class AdjustableClock : TimeProvider
{
    private long _offsetTicks;
    private string? _lockedBecause;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by)
    {
        if (Volatile.Read(ref _lockedBecause) is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        Interlocked.Add(ref _offsetTicks, by.Ticks);
    }

    /// <summary>From now on <see cref="Advance"/> fails with <paramref name="reason"/>.</summary>
    public void Lock(string reason) => Volatile.Write(ref _lockedBecause, reason);
}
