using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Throttling;

/// <summary>
/// What the throttle answers one attempt: send at <see cref="Slot"/>, or come back after <see cref="Delay"/>,
/// in line (ahead of newcomers) or not.
/// </summary>
public readonly record struct Admission(DateTimeOffset? Slot, TimeSpan Delay, bool InLine)
{
    public bool Admitted => Slot is not null;

    public static Admission SendAt(DateTimeOffset slot) => new(slot, TimeSpan.Zero, false);

    public static Admission Later(TimeSpan delay, bool inLine) => new(null, delay, inLine);
}

/// <summary>
/// Holds a webhook's attempts to <c>rateLimitPerSecond</c> across every instance and worker together.
/// <para>
/// A generic cell rate scheme without burst: send slots are spaced <c>1/rate</c> apart, and the next free
/// one is kept in one row per throttled webhook (Deliveries, the webhook's partition, RowKey <c>throttle</c>),
/// taken with an ETag-conditional write. A worker only takes a slot at most <see cref="MaxWait"/> ahead and
/// waits for it in-process, so any one-second window holds at most rate + 1 starts (plus the spread between
/// instances' clocks: slots are absolute times from the row, compared with each instance's own clock, so the
/// limit assumes NTP-synchronised hosts, as Azure's are).
/// </para>
/// <para>
/// An attempt that cannot start within <see cref="MaxWait"/> takes no slot and uses up no attempt: it joins a
/// line instead. The row's <c>Horizon</c> is the end of that line; each newcomer is given the next place in it,
/// <c>1/rate</c> after the last, and its message comes back hidden until shortly before that place. Back in
/// turn (the message says it is in line), it takes a real slot ahead of newcomers. The line only orders the
/// work and spreads its messages out: the limit itself rests on the slots alone, so a place that is never used
/// (a duplicate message, a crash) costs a little throughput, never an excess.
/// </para>
/// </summary>
public sealed class DeliveryThrottle(Tables tables, TimeProvider clock, ILogger<DeliveryThrottle> logger)
{
    public const string RowKey = "throttle";

    /// <summary>The longest a worker waits in-process for its slot; a queue message is hidden for whole seconds, so shorter would not help.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(1);

    /// <summary>After this many lost races for the row, the attempt backs off through the queue rather than keep a storm of retries going.</summary>
    private const int MaxTries = 6;

    private const string NextSlot = nameof(NextSlot);
    private const string Horizon = nameof(Horizon);

    /// <summary>
    /// The retention purge keys on <c>CreatedAt</c>: refreshed on every write, so the row is removed only once it has
    /// been unused for the retention period, when every slot it ever held is long past.
    /// </summary>
    private const string CreatedAt = nameof(CreatedAt);

    /// <summary>
    /// Workers of one instance take their turn at a webhook's row, so the races left are between instances.
    /// Striped by webhook so memory stays bounded however many webhooks are throttled.
    /// </summary>
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    private readonly TableClient _table = tables.Deliveries;

    /// <summary>The gap between two slots: a whole number of ticks, rounded up so that the rate is never exceeded.</summary>
    public static long SpacingTicks(int ratePerSecond) => (TimeSpan.TicksPerSecond + ratePerSecond - 1) / ratePerSecond;

    /// <summary>
    /// Takes a send slot for one attempt to <paramref name="webhookId"/>, or says when to come back.
    /// <paramref name="inLine"/>: the attempt already waited its turn in the line, so it goes before newcomers.
    /// </summary>
    public async Task<Admission> AdmitAsync(string webhookId, int ratePerSecond, bool inLine, CancellationToken cancellationToken)
    {
        var spacing = SpacingTicks(ratePerSecond);
        var stripe = _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(webhookId) % (uint)_stripes.Length)];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            for (var tries = 0; tries < MaxTries; tries++)
            {
                if (tries > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 << tries)), clock, cancellationToken);
                }

                var found = await _table.GetEntityIfExistsAsync<TableEntity>(webhookId, RowKey, cancellationToken: cancellationToken);
                var row = found.HasValue ? found.Value : null;
                var now = clock.GetUtcNow();
                var next = Math.Max(now.UtcTicks, row?.GetInt64(NextSlot) ?? 0);
                var horizon = row?.GetInt64(Horizon) ?? 0;
                var maxWait = now.UtcTicks + MaxWait.Ticks;

                Admission admission;
                long nextAfter = next, horizonAfter = horizon;
                if (next <= maxWait && (inLine || horizon <= maxWait))
                {
                    admission = Admission.SendAt(new DateTimeOffset(next, TimeSpan.Zero));
                    nextAfter = next + spacing;
                }
                else if (inLine)
                {
                    // Its place came up while earlier ones still hold the next second: back shortly, still in line. Nothing to write.
                    return Admission.Later(TimeSpan.FromTicks(next - now.UtcTicks), inLine: true);
                }
                else
                {
                    var place = Math.Max(next, horizon);
                    admission = Admission.Later(TimeSpan.FromTicks(place - now.UtcTicks), inLine: true);
                    horizonAfter = place + spacing;
                }

                if (await TryWriteAsync(webhookId, row, nextAfter, horizonAfter, now, cancellationToken))
                {
                    return admission;
                }
            }
        }
        finally
        {
            stripe.Release();
        }

        logger.LogInformation("Throttle of webhook {WebhookId} contended {Tries} times; the attempt comes back through the queue", webhookId, MaxTries);
        return Admission.Later(TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(0, 1000)), inLine);
    }

    /// <summary>Waits until <paramref name="slot"/> by the instance's clock and returns the time the attempt starts.</summary>
    public async Task<DateTimeOffset> WaitForAsync(DateTimeOffset slot, CancellationToken cancellationToken)
    {
        var wait = slot - clock.GetUtcNow();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }

        return clock.GetUtcNow();
    }

    private async Task<bool> TryWriteAsync(
        string webhookId, TableEntity? current, long nextSlot, long horizon, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = new TableEntity(webhookId, RowKey) { [NextSlot] = nextSlot, [Horizon] = horizon, [CreatedAt] = now };
        try
        {
            if (current is null)
            {
                await _table.AddEntityAsync(row, cancellationToken);
            }
            else
            {
                await _table.UpdateEntityAsync(row, current.ETag, TableUpdateMode.Replace, cancellationToken);
            }

            return true;
        }
        catch (RequestFailedException exception) when (exception.Status is 409 or 412 or 404)
        {
            return false;
        }
    }
}
