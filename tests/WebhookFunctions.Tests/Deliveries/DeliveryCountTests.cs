using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Deliveries;

/// <summary>The webhook's counts are of attempts and exact once deliveries settle, under concurrent work on every webhook.</summary>
[Collection(ApiTestGroup.Name)]
public sealed class DeliveryCountTests(ApiFixture fixture, ITestOutputHelper output)
{
    private const int Events = 400;
    private const int Webhooks = 5;
    private const double FailureRate = 0.25;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task After_two_thousand_deliveries_with_random_failures_the_counts_equal_the_recorded_attempts_and_what_the_receiver_got()
    {
        // Under load a worker can fail after claiming an attempt (storage answering slowly or not at all); the
        // sweep is what finishes such attempts, so it re-drives them as soon as their claim (timeout + 30 s) ends.
        await using var host = await fixture.StartDeliveryHostAsync("Delivery:RetrySchedule=100ms,100ms,100ms", "Delivery:RedriveAfterSeconds=35");
        await using var receiver = await Receiver.StartAsync();
        var random = new Random(20_000);
        var answered = new ConcurrentDictionary<(string Path, int Status), int>();
        var tenant = await host.NewTenantAsync("Counting merchant");
        var webhooks = new List<(string Id, string Path)>();
        for (var i = 0; i < Webhooks; i++)
        {
            var path = $"/counted-{i}";
            receiver.Respond(path, (_, _) =>
            {
                int status;
                lock (random)
                {
                    status = random.NextDouble() < FailureRate ? 500 : 204;
                }

                answered.AddOrUpdate((path, status), 1, (_, n) => n + 1);
                return new Answer(status);
            });
            webhooks.Add(((await tenant.CreateWebhookAsync(new { url = receiver.Url(path) })).Id(), path));
        }

        var stopwatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Events), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (n, _) =>
            await tenant.PublishAsync(new { eventType = n % 2 == 0 ? "session.completed" : "session.expired", payload = new { n } }));
        output.WriteLine($"{Events} events published in {stopwatch.Elapsed.TotalSeconds:0.0} s");

        // Settled when every delivery ended: each SUCCEEDED one has exactly one successful attempt, and FAILED
        // ones are few, so the webhook's count and, near the end, one short list tell it without listing all
        // 2,000 while they work (a filtered list is a scan for Azurite, and would slow the work it waits for).
        // Under two minutes on two cores of its own; the bound leaves room for a machine shared with other work.
        var deadline = TimeSpan.FromMinutes(4);
        var unavailable = 0;
        foreach (var (id, _) in webhooks)
        {
            while (true)
            {
                using var response = await tenant.Http.GetAsync(tenant.WebhookPath(id));
                if ((int)response.StatusCode >= 500)
                {
                    // Storage overloaded by the work itself: a read may fail; the counts are checked once it settles.
                    unavailable++;
                }
                else
                {
                    var successes = (await response.BodyAsync()).GetProperty("successCount").GetInt64();
                    if (successes > Events - 20 && successes + (await ListAsync(tenant, id, "FAILED")).Count == Events)
                    {
                        break;
                    }
                }

                if (stopwatch.Elapsed >= deadline)
                {
                    output.WriteLine(Troubles(host));
                    Assert.Fail($"webhook {id}: not settled after {stopwatch.Elapsed.TotalSeconds:0} s; {receiver.Deliveries.Count} requests received");
                }

                await Task.Delay(2000);
            }
        }

        var settled = new Dictionary<string, List<JsonElement>>();
        foreach (var (id, _) in webhooks)
        {
            settled[id] = await ListAsync(tenant, id, status: null);
            Assert.DoesNotContain(settled[id], d => d.GetProperty("status").GetString() == "PENDING");
        }

        output.WriteLine($"{Events * Webhooks} deliveries settled after {stopwatch.Elapsed.TotalSeconds:0.0} s; {receiver.Deliveries.Count} requests received; {unavailable} polls failed");
        output.WriteLine(Troubles(host));
        await Task.Delay(1000);
        var failedHandlings = host.Logs.Lines.Count(l => l.Contains("Handling message", StringComparison.Ordinal) && l.Contains("-attempts failed", StringComparison.Ordinal));
        foreach (var (id, path) in webhooks)
        {
            var webhook = await tenant.WebhookAsync(id);
            var successes = webhook.GetProperty("successCount").GetInt64();
            var failures = webhook.GetProperty("failureCount").GetInt64();
            var recorded = settled[id].Sum(d => d.GetProperty("attempts").GetInt32());
            var received = receiver.Deliveries.Count(d => d.Path == path);
            output.WriteLine($"{path}: {successes} successes + {failures} failures; {recorded} attempts recorded; {received} received");

            Assert.Equal(Events, settled[id].Select(d => d.GetProperty("eventId").GetString()).Distinct().Count());
            Assert.Equal(recorded, successes + failures);

            // At least once: a POST whose record then failed in storage (the worker logs it, and the message
            // comes back) is sent again, so the receiver may hold one more POST per such failure, never fewer.
            var unrecorded = received - recorded;
            Assert.InRange(unrecorded, 0, failedHandlings);
            Assert.InRange(answered.GetValueOrDefault((path, 204)), successes, successes + unrecorded);
            Assert.InRange(answered.GetValueOrDefault((path, 500)), failures, failures + unrecorded);
            Assert.Equal(settled[id].Count(d => d.GetProperty("status").GetString() == "SUCCEEDED"), successes);
            Assert.InRange(failures, 1, recorded - 1);
        }

        await RemoveAsync(host, tenant, webhooks.Select(w => w.Id).ToList());
    }

    /// <summary>
    /// Leaves the shared Azurite as it was: Azurite answers a partition query by scanning the whole table,
    /// and the sweep of every later delivery host queries each webhook's partition, so these ~7,000 rows
    /// and 5 webhooks would slow every delivery test after this one.
    /// </summary>
    private static async Task RemoveAsync(TestHost host, Tenant tenant, IReadOnlyList<string> webhookIds)
    {
        var tables = host.Services.GetRequiredService<Tables>();
        foreach (var id in webhookIds)
        {
            using var deleted = await tenant.Http.DeleteAsync(tenant.WebhookPath(id));
            await RemovePartitionAsync(tables.Deliveries, id);
        }

        await RemovePartitionAsync(tables.Events, tenant.ApplicationId);
    }

    private static async Task RemovePartitionAsync(TableClient table, string partitionKey)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}"), select: ["PartitionKey", "RowKey"]))
        {
            rows.Add(row);
        }

        foreach (var batch in rows.Chunk(100))
        {
            await table.SubmitTransactionAsync(batch.Select(row => new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All)));
        }
    }

    /// <summary>The host's warnings and errors by kind, so a failure under load says what the workers ran into.</summary>
    private static string Troubles(TestHost host) => "warnings and errors: " + string.Join("; ", host.Logs.Lines
        .Where(l => l.Contains(" Warning ", StringComparison.Ordinal) || l.Contains(" Error ", StringComparison.Ordinal))
        .GroupBy(l => System.Text.RegularExpressions.Regex.Replace(l.Length > 200 ? l[..200] : l, "[0-9a-f-]{36}|\\[[^\\]]*\\]|[0-9]+(\\.[0-9]+)?", "#"))
        .OrderByDescending(g => g.Count())
        .Select(g => $"{g.Count()} x {g.Key}"));

    private static async Task<List<JsonElement>> ListAsync(Tenant tenant, string webhookId, string? status)
    {
        var items = new List<JsonElement>();
        string? token = null;
        do
        {
            var page = await tenant.GetJsonAsync($"{tenant.DeliveriesPath(webhookId)}?limit=100" + (status is null ? string.Empty : $"&status={status}")
                + (token is null ? string.Empty : $"&pageToken={Uri.EscapeDataString(token)}"));
            items.AddRange(page.GetProperty("items").EnumerateArray());
            token = page.GetProperty("nextPageToken").GetString();
        }
        while (token is not null);

        return items;
    }
}
