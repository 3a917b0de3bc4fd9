using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Failures;
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
/// <c>1/rate</c> after the last, and its message comes back, hidden, shortly before that place. Back in turn
/// (the message says it is in line), it takes a real slot ahead of newcomers. The line only orders the work and
/// spreads its messages out: the limit rests on the slots alone, so a place that is never used (a duplicate
/// message, a crash) costs a little throughput, never an excess.
/// </para>
/// <para>
/// Contention: the workers of one instance never race each other for the row. Their requests for one webhook
/// are combined: one of them reads the row and answers every request waiting at that moment with one write,
/// so an instance makes one read and one write per batch, however many workers wait, and only instances race.
/// A batch that loses the race <see cref="MaxTries"/> times backs off through the queue.
/// </para>
/// </summary>
public sealed class DeliveryThrottle(Tables tables, TimeProvider clock, ILogger<DeliveryThrottle> logger)
{
    public const string RowKey = "throttle";

    /// <summary>The longest a worker waits in-process for its slot; a queue message is hidden for whole seconds, so shorter would not help.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(1);

    private const int MaxTries = 6;

    private const string NextSlot = nameof(NextSlot);
    private const string Horizon = nameof(Horizon);

    /// <summary>
    /// The retention purge keys on <c>CreatedAt</c>: refreshed on every write, so the row is removed only once it has
    /// been unused for the retention period, when every slot it ever held is long past.
    /// </summary>
    private const string CreatedAt = nameof(CreatedAt);

    private readonly TableClient _table = tables.Deliveries;

    /// <summary>Requests waiting per webhook; an entry lives only while some are waiting, so memory follows the work in hand.</summary>
    private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.Ordinal);

    private sealed class Gate
    {
        public List<Request> Pending { get; } = [];

        public bool Retired { get; set; }
    }

    private sealed class Request(int rate, bool inLine)
    {
        public int Rate { get; } = rate;

        public bool InLine { get; } = inLine;

        public TaskCompletionSource<Admission> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The gap between two slots: a whole number of ticks, rounded up so that the rate is never exceeded.</summary>
    public static long SpacingTicks(int ratePerSecond) => (TimeSpan.TicksPerSecond + ratePerSecond - 1) / ratePerSecond;

    /// <summary>
    /// Takes a send slot for one attempt to <paramref name="webhookId"/>, or says when to come back.
    /// <paramref name="inLine"/>: the attempt already waited its turn in the line, so it goes before newcomers.
    /// </summary>
    public async Task<Admission> AdmitAsync(string webhookId, int ratePerSecond, bool inLine, CancellationToken cancellationToken)
    {
        var request = new Request(ratePerSecond, inLine);
        while (true)
        {
            var gate = _gates.GetOrAdd(webhookId, _ => new Gate());
            bool lead;
            lock (gate)
            {
                if (gate.Retired)
                {
                    continue;
                }

                lead = gate.Pending.Count == 0;
                gate.Pending.Add(request);
            }

            if (lead)
            {
                // The first request of a batch leads it, detached: a leader that waited for later batches would miss its own slot.
                _ = Task.Run(() => LeadAsync(webhookId, gate), CancellationToken.None);
            }

            return await request.Answer.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Waits until <paramref name="slot"/> by the instance's clock and returns the time the attempt starts. A slot
    /// already past by more than <see cref="Tolerance"/> (the process stalled, or storage answered late, between
    /// taking it and sending) is not used: sending then would crowd the slots after it, so the attempt takes a
    /// fresh one, ahead of newcomers. It gives up after <see cref="LateBudget"/>, failing the attempt as a storage
    /// timeout does, rather than send outside the limit.
    /// </summary>
    public async Task<DateTimeOffset> WaitForAsync(string webhookId, int ratePerSecond, DateTimeOffset slot, CancellationToken cancellationToken)
    {
        var tolerance = Tolerance(ratePerSecond);
        var giveUp = clock.GetUtcNow() + LateBudget;
        while (true)
        {
            var wait = slot - clock.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock, cancellationToken);
            }

            var now = clock.GetUtcNow();
            if (now - slot <= tolerance)
            {
                return now;
            }

            if (now > giveUp)
            {
                throw new DependencyTimeoutException("The attempt could not be sent within its rate-limit slot; it is retried later.");
            }

            logger.LogDebug("Throttle slot of webhook {WebhookId} missed by {Late} ms; taking another", webhookId, (now - slot).TotalMilliseconds);
            var admission = await AdmitAsync(webhookId, ratePerSecond, inLine: true, cancellationToken);
            while (!admission.Admitted && clock.GetUtcNow() < giveUp)
            {
                await Task.Delay(admission.Delay, clock, cancellationToken);
                admission = await AdmitAsync(webhookId, ratePerSecond, inLine: true, cancellationToken);
            }

            slot = admission.Slot ?? throw new DependencyTimeoutException("The attempt could not be sent within its rate-limit slot; it is retried later.");
        }
    }

    /// <summary>
    /// How late a slot may still be used: half the spacing keeps any one-second window at rate + 1, and 20 ms at
    /// least, the precision a timer and a thread pool offer, so a high rate does not chase slots it cannot hit.
    /// </summary>
    public static TimeSpan Tolerance(int ratePerSecond) => TimeSpan.FromTicks(Math.Max(SpacingTicks(ratePerSecond) / 2, TimeSpan.TicksPerMillisecond * 20));

    /// <summary>Well within an attempt's claim (the send's timeout and 30 s), so a claimed attempt is never sent after its claim ran out.</summary>
    private static readonly TimeSpan LateBudget = TimeSpan.FromSeconds(20);

    private async Task LeadAsync(string webhookId, Gate gate)
    {
        while (true)
        {
            List<Request> batch;
            lock (gate)
            {
                batch = [.. gate.Pending];
            }

            try
            {
                var answers = await AnswerAsync(webhookId, batch);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Answer.TrySetResult(answers[i]);
                }
            }
            catch (Exception exception)
            {
                // Storage failed: each waiting attempt fails as any storage failure does, and its message comes back.
                batch.ForEach(r => r.Answer.TrySetException(exception));
            }

            lock (gate)
            {
                gate.Pending.RemoveRange(0, batch.Count);
                if (gate.Pending.Count == 0)
                {
                    gate.Retired = true;
                    _gates.TryRemove(new KeyValuePair<string, Gate>(webhookId, gate));
                    return;
                }
            }
        }
    }

    /// <summary>Answers a batch with one read and one conditional write of the row, trying again if another instance wrote first.</summary>
    private async Task<Admission[]> AnswerAsync(string webhookId, List<Request> batch)
    {
        // A limit just changed by a PATCH may differ between requests: the lowest is the safe one.
        var spacing = SpacingTicks(batch.Min(r => r.Rate));
        // Attempts that waited their turn go before newcomers; within each, in the order they asked.
        var order = Enumerable.Range(0, batch.Count).OrderBy(i => batch[i].InLine ? 0 : 1).ToArray();
        for (var tries = 0; tries < MaxTries; tries++)
        {
            if (tries > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 << tries)), clock);
            }

            var found = await _table.GetEntityIfExistsAsync<TableEntity>(webhookId, RowKey);
            var row = found.HasValue ? found.Value : null;
            var now = clock.GetUtcNow().UtcTicks;
            var next = Math.Max(now, row?.GetInt64(NextSlot) ?? 0);
            var horizon = row?.GetInt64(Horizon) ?? 0;
            var latest = now + MaxWait.Ticks;
            var answers = new Admission[batch.Count];
            foreach (var i in order)
            {
                if (next <= latest && (batch[i].InLine || horizon <= latest))
                {
                    answers[i] = Admission.SendAt(new DateTimeOffset(next, TimeSpan.Zero));
                    next += spacing;
                }
                else if (batch[i].InLine)
                {
                    // Its place came up while earlier ones still hold the next second: back shortly, still in line.
                    answers[i] = Admission.Later(TimeSpan.FromTicks(next - now), inLine: true);
                }
                else
                {
                    var place = Math.Max(next, horizon);
                    answers[i] = Admission.Later(TimeSpan.FromTicks(place - now), inLine: true);
                    horizon = place + spacing;
                }
            }

            if (await TryWriteAsync(webhookId, row, next, horizon, now))
            {
                return answers;
            }
        }

        logger.LogInformation("Throttle of webhook {WebhookId} lost the race for its row {Tries} times; {Count} attempts come back through the queue",
            webhookId, MaxTries, batch.Count);
        return batch.Select(r => Admission.Later(TimeSpan.FromMilliseconds(1000 + Random.Shared.Next(0, 1000)), r.InLine)).ToArray();
    }

    private async Task<bool> TryWriteAsync(string webhookId, TableEntity? current, long nextSlot, long horizon, long now)
    {
        var row = new TableEntity(webhookId, RowKey)
        {
            [NextSlot] = nextSlot, [Horizon] = horizon, [CreatedAt] = new DateTimeOffset(now, TimeSpan.Zero),
        };
        try
        {
            if (current is null)
            {
                await _table.AddEntityAsync(row);
            }
            else
            {
                await _table.UpdateEntityAsync(row, current.ETag, TableUpdateMode.Replace);
            }

            return true;
        }
        catch (RequestFailedException exception) when (exception.Status is 409 or 412 or 404)
        {
            return false;
        }
    }
}
