using System.Net.Http.Headers;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Signing;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Bench;

/// <summary>
/// The baseline for delivery throughput: the queue and table operations FanOutProcessor and
/// AttemptProcessor make, and the signed POST, written straight against the SDKs, with the same
/// number of messages in hand per queue as the host's workers (Delivery:BatchSize). No services,
/// no options, no logging; only what a delivery cannot do without.
/// </summary>
public sealed class RawDeliveryLoop(Tables tables, QueueClient fanOut, QueueClient attempts, ISecretStore secrets, int inHand) : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(90);
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, UseCookies = false });
    private int _failures;

    /// <summary>Messages that could not be handled; each is a missing delivery.</summary>
    public int Failures => _failures;

    /// <summary>The first failure, for saying why deliveries are missing.</summary>
    public string? FirstFailure { get; private set; }

    public Task RunAsync(CancellationToken stop) => Task.WhenAll(PumpAsync(fanOut, FanOutAsync, stop), PumpAsync(attempts, AttemptAsync, stop));

    private async Task PumpAsync(QueueClient queue, Func<string, Task> handle, CancellationToken stop)
    {
        using var slots = new SemaphoreSlim(inHand, inHand);
        var idle = TimeSpan.FromMilliseconds(25);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stop);
                var free = 1;
                while (free < inHand && slots.Wait(0, CancellationToken.None))
                {
                    free++;
                }

                var received = (await queue.ReceiveMessagesAsync(free, Lease, stop)).Value;
                if (received.Length < free)
                {
                    slots.Release(free - received.Length);
                }
                if (received.Length == 0)
                {
                    await Task.Delay(idle, stop);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, TimeSpan.FromMilliseconds(200).Ticks));
                    continue;
                }

                idle = TimeSpan.FromMilliseconds(25);
                foreach (var message in received)
                {
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await handle(message.MessageText);
                            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                        }
                        catch (Exception exception)
                        {
                            FirstFailure ??= $"{queue.Name}: {exception.GetType().Name}: {exception.Message}";
                            Interlocked.Increment(ref _failures);
                        }
                        finally
                        {
                            slots.Release();
                        }
                    }, CancellationToken.None);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Read the event, list the application's webhooks, create each delivery with its marker, send its attempt, complete the event.</summary>
    private async Task FanOutAsync(string text)
    {
        var message = DeliveryQueues.Deserialize<FanOutMessage>(text)!;
        var row = await tables.Events.GetEntityAsync<TableEntity>(message.ApplicationId, EventEntity.RowKeyOf(message.EventId));
        var e = EventEntity.ToModel(row.Value);
        var targets = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {e.MerchantId} and RowKey gt {e.ApplicationId + ":"} and RowKey lt {e.ApplicationId + ";"}");
        await foreach (var webhookRow in tables.Webhooks.QueryAsync<TableEntity>(filter))
        {
            var webhook = WebhookEntity.ToModel(webhookRow);
            var delivery = new Delivery
            {
                WebhookId = webhook.Id, EventId = e.Id, ApplicationId = e.ApplicationId, MerchantId = e.MerchantId, EventType = e.EventType,
                Status = DeliveryStatus.Pending, NextAttemptAt = DateTimeOffset.UtcNow, CreatedAt = e.CreatedAt,
            };
            await tables.Deliveries.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, DeliveryEntity.ToEntity(delivery)),
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, DeliveryEntity.Pending(delivery)),
            ]);
            await attempts.SendMessageAsync(DeliveryQueues.Serialize(new AttemptMessage(e.MerchantId, e.ApplicationId, webhook.Id, e.Id, 1)));
            targets.Add(webhook.Id);
        }

        await tables.Events.SubmitTransactionAsync(
        [
            new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                new TableEntity(e.ApplicationId, EventEntity.RowKeyOf(e.Id)) { ["Targets"] = System.Text.Json.JsonSerializer.Serialize(targets) }, ETag.All),
            new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(e.ApplicationId, EventEntity.PendingRowKeyOf(e.Id)), ETag.All),
        ]);
    }

    /// <summary>Read the delivery and the webhook, claim the attempt, read the event, the secret and the counts, POST, record it all in one transaction.</summary>
    private async Task AttemptAsync(string text)
    {
        var message = DeliveryQueues.Deserialize<AttemptMessage>(text)!;
        var found = await tables.Deliveries.GetEntityIfExistsAsync<TableEntity>(message.WebhookId, DeliveryEntity.RowKeyOf(message.EventId));
        if (!found.HasValue || DeliveryEntity.ToModel(found.Value!) is not { Status: DeliveryStatus.Pending } delivery)
        {
            return;
        }

        var webhookRow = await tables.Webhooks.GetEntityAsync<TableEntity>(message.MerchantId, WebhookEntity.RowKeyOf(message.ApplicationId, message.WebhookId));
        var webhook = WebhookEntity.ToModel(webhookRow.Value);
        var now = DateTimeOffset.UtcNow;
        var claimed = delivery with { ClaimedAttempt = message.Attempt, ClaimedUntil = now + Lease };
        var claim = await tables.Deliveries.UpdateEntityAsync(DeliveryEntity.ToEntity(claimed), delivery.Version, TableUpdateMode.Replace);
        claimed = claimed with { Version = claim.Headers.ETag!.Value };
        var e = EventEntity.ToModel((await tables.Events.GetEntityAsync<TableEntity>(message.ApplicationId, EventEntity.RowKeyOf(message.EventId))).Value);
        var secret = await secrets.GetAsync(SecretNames.ForWebhook(webhook.Id), webhook.SecretVersion, CancellationToken.None)
            ?? throw new InvalidOperationException("No signing secret.");

        var body = AttemptProcessor.Body(e);
        var timestamp = now.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSigner.IdHeader, e.Id);
        request.Headers.TryAddWithoutValidation(WebhookSigner.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(WebhookSigner.SignatureHeader, WebhookSigner.Sign(e.Id, timestamp, body, [secret]));
        var started = System.Diagnostics.Stopwatch.StartNew();
        using var response = await _http.SendAsync(request);
        await response.Content.CopyToAsync(Stream.Null);
        var status = (int)response.StatusCode;

        // Record: the attempt row, the delivery settled, its marker gone, one count shard moved on; re-read the shard if another attempt moved it first.
        var shard = DeliveryEntity.ShardOf(e.Id);
        for (var tries = 0; ; tries++)
        {
            var statsRow = await tables.Deliveries.GetEntityIfExistsAsync<TableEntity>(message.WebhookId, DeliveryEntity.StatsRowKeyOf(shard));
            var stats = statsRow.HasValue ? DeliveryEntity.ToStats(statsRow.Value!) : DeliveryStats.Empty;
            var counted = stats with { SuccessCount = stats.SuccessCount + 1, LastDeliveryAt = now, LastDeliveryStatus = DeliveryStatus.Succeeded, LastSuccessAt = now };
            var settled = claimed with
            {
                Status = DeliveryStatus.Succeeded, Attempts = 1, ScheduledAttempts = 1, NextAttemptAt = null, ClaimedAttempt = null, ClaimedUntil = null,
                LastAttemptAt = now, LastHttpStatus = status,
            };
            var attempt = new DeliveryAttempt(1, AttemptTriggers.Scheduled, now, started.ElapsedMilliseconds, status, null, string.Empty);
            try
            {
                await tables.Deliveries.SubmitTransactionAsync(
                [
                    new TableTransactionAction(TableTransactionActionType.Add, DeliveryEntity.ToEntity(message.WebhookId, e.Id, attempt, e.CreatedAt)),
                    new TableTransactionAction(TableTransactionActionType.UpdateReplace, DeliveryEntity.ToEntity(settled), claimed.Version),
                    statsRow.HasValue
                        ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, DeliveryEntity.ToEntity(message.WebhookId, shard, counted), stats.Version)
                        : new TableTransactionAction(TableTransactionActionType.Add, DeliveryEntity.ToEntity(message.WebhookId, shard, counted)),
                    new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(message.WebhookId, DeliveryEntity.PendingRowKeyOf(e.Id)), ETag.All),
                ]);
                return;
            }
            catch (TableTransactionFailedException exception) when (exception.Status is 409 or 412 && tries < 20)
            {
            }
        }
    }

    public void Dispose() => _http.Dispose();
}
