using System.Collections.Concurrent;

namespace WebhookFunctions.Core.Delivery;

/// <summary>
/// Tells this instance's pump of a queue that this instance has just put work on it, so the pump polls at once
/// instead of at the end of its idle wait (the WebJobs SDK's queue listener does the same for messages its own
/// host wrote). It saves a publish up to two idle waits on its way to the receiver: one before the fan-out, one
/// before the first attempt. Other instances still find the message by polling; nothing depends on the signal.
/// </summary>
public sealed class QueueSignals
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _signals = new(StringComparer.Ordinal);

    public void Notify(string queueName)
    {
        var signal = Of(queueName);
        try
        {
            if (signal.CurrentCount == 0)
            {
                signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Another sender signalled first: one wake-up is all the pump needs.
        }
    }

    /// <summary>Waits for a signal or <paramref name="timeout"/>, whichever comes first; true if signalled.</summary>
    public Task<bool> WaitAsync(string queueName, TimeSpan timeout, CancellationToken cancellationToken) =>
        Of(queueName).WaitAsync(timeout, cancellationToken);

    private SemaphoreSlim Of(string queueName) => _signals.GetOrAdd(queueName, static _ => new SemaphoreSlim(0, 1));
}
