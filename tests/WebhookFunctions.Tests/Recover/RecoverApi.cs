using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Tests.Deliveries;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Recover;

/// <summary>Calls of the recover and job routes the recover tests share, and the seeding of failed deliveries; every wait has a deadline.</summary>
public static class RecoverApi
{
    public static string RecoverPath(this Tenant tenant, string webhookId) => $"{tenant.WebhookPath(webhookId)}/recover";

    public static string Iso(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);

    public static Task<HttpResponseMessage> RecoverAsync(this Tenant tenant, string webhookId, object body) =>
        tenant.Http.PostAsync(tenant.RecoverPath(webhookId), Http.Json(body));

    /// <summary>The dry run's count; fails the test on anything but 200.</summary>
    public static async Task<long> DryRunAsync(this Tenant tenant, string webhookId, DateTimeOffset since, DateTimeOffset? until, params string[] statuses)
    {
        using var response = await tenant.RecoverAsync(webhookId, new { since = Iso(since), until = until is { } u ? Iso(u) : null, statuses, dryRun = true });
        var json = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"dry run: expected 200, got {(int)response.StatusCode}: {json}");
        return json.GetProperty("matched").GetInt64();
    }

    /// <summary>Starts a job and returns its Location; fails the test on anything but 202.</summary>
    public static async Task<string> StartAsync(this Tenant tenant, string webhookId, DateTimeOffset since, DateTimeOffset? until, params string[] statuses)
    {
        using var response = await tenant.RecoverAsync(webhookId, new { since = Iso(since), until = until is { } u ? Iso(u) : null, statuses });
        var json = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"recover: expected 202, got {(int)response.StatusCode}: {json}");
        Assert.Equal("recover", json.GetProperty("kind").GetString());
        var location = response.Headers.Location!.ToString();
        Assert.Equal($"/api/v1/jobs/{json.Id()}", location);
        return location;
    }

    /// <summary>
    /// Waits until the job is no longer RUNNING and returns it; fails with the last state seen. A 502, 503
    /// or 504 is read again: a host busy with thousands of deliveries on Azurite's one thread may time out a read.
    /// </summary>
    public static async Task<JsonElement> WaitForJobAsync(this Tenant tenant, string location, TimeSpan within, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + within;
        JsonElement job = default;
        while (true)
        {
            if (await TryGetJobAsync(tenant, location) is { } read)
            {
                job = read;
                if (job.GetProperty("status").GetString() != "RUNNING")
                {
                    return job;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"The job at {location} is still RUNNING after {within.TotalSeconds:0} s: {job}{(context is null ? "" : "\n" + context())}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The job, or null when storage was too busy to answer (502, 503, 504); anything else but 200, a 500 included, fails the test.</summary>
    public static async Task<JsonElement?> TryGetJobAsync(this Tenant tenant, string location)
    {
        using var response = await tenant.Http.GetAsync(location);
        if (response.StatusCode is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout)
        {
            return null;
        }

        var json = await response.BodyAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {location}: expected 200, got {(int)response.StatusCode}: {json}");
        return json;
    }

    /// <summary>
    /// Writes <paramref name="count"/> events, each with a delivery to <paramref name="webhookId"/> that is
    /// FAILED after one recorded 500 attempt: the rows the service itself writes for an endpoint that was
    /// down, written here in batches (100 per transaction) because publishing and failing thousands through
    /// the service takes minutes on two cores. Without <paramref name="attemptRows"/> the first attempt is
    /// counted but its row left out: Azurite scans a whole table for every partition query, so thousands
    /// of extra rows slow every later query. Returns the event ids.
    /// </summary>
    public static async Task<List<string>> SeedFailedAsync(
        string connectionString, Tenant tenant, string webhookId, int count, DateTimeOffset createdAt, bool attemptRows = true)
    {
        var tables = new TableServiceClient(connectionString);
        var events = tables.GetTableClient(TableNames.Events);
        var deliveries = tables.GetTableClient(TableNames.Deliveries);
        var ids = Enumerable.Range(0, count).Select(_ => Ids.New()).ToList();
        var at = Timestamps.Truncate(createdAt);
        var payload = Encoding.UTF8.GetBytes("""{"seeded":true}""");
        var work = new List<Task>();
        foreach (var chunk in ids.Chunk(100))
        {
            work.Add(events.SubmitTransactionAsync(chunk.Select(id =>
            {
                var row = EventEntity.ToEntity(new EventRecord
                {
                    Id = id, MerchantId = tenant.MerchantId, ApplicationId = tenant.ApplicationId, EventType = "session.completed", Payload = payload, CreatedAt = at,
                });
                row["Targets"] = JsonSerializer.Serialize(new[] { webhookId });
                return new TableTransactionAction(TableTransactionActionType.Add, row);
            })));
        }

        foreach (var chunk in ids.Chunk(50))
        {
            work.Add(deliveries.SubmitTransactionAsync(chunk.SelectMany(id => new[]
            {
                new TableTransactionAction(TableTransactionActionType.Add, DeliveryEntity.ToEntity(new Core.Delivery.Delivery
                {
                    WebhookId = webhookId, EventId = id, ApplicationId = tenant.ApplicationId, MerchantId = tenant.MerchantId, EventType = "session.completed",
                    Status = DeliveryStatus.Failed, Attempts = 1, ScheduledAttempts = 1, LastAttemptAt = at, LastHttpStatus = 500, CreatedAt = at,
                })),
                attemptRows
                    ? new TableTransactionAction(TableTransactionActionType.Add,
                        DeliveryEntity.ToEntity(webhookId, id, new DeliveryAttempt(1, AttemptTriggers.Scheduled, at, 3, 500, null, null), at))
                    : null,
            }.OfType<TableTransactionAction>())));
            if (work.Count >= 16)
            {
                await Task.WhenAll(work);
                work.Clear();
            }
        }

        await Task.WhenAll(work);
        return ids;
    }

    /// <summary>The attempts recorded in storage with <paramref name="trigger"/>, per event: the judge of what the job queued, read without 10,000 API calls.</summary>
    public static async Task<Dictionary<string, int>> RecordedAttemptsAsync(string connectionString, string webhookId, string trigger)
    {
        var table = new TableServiceClient(connectionString).GetTableClient(TableNames.Deliveries);
        var counts = new Dictionary<string, int>();
        await foreach (var row in table.QueryAsync<TableEntity>(
                           TableClient.CreateQueryFilter($"PartitionKey eq {webhookId} and RowKey gt {"a:"} and RowKey lt {"a;"} and Trigger eq {trigger}"), select: ["RowKey"]))
        {
            var eventId = Ids.Descending(row.RowKey[2..38]);
            counts[eventId] = counts.GetValueOrDefault(eventId) + 1;
        }

        return counts;
    }
}
