using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Development;

namespace WebhookFunctions.Bench;

/// <summary>
/// The opt-in recover phase (<c>--recover [--recover-count=N]</c>, default 100,000): N failed deliveries of
/// one webhook, written straight to storage as the service writes them; then a dry run, and a recover job
/// through the API of a delivering host process (workers on) until it is COMPLETED and until the receiver
/// has every delivery. It reports the times and the host's peak RSS (VmHWM). An Azurite of its own.
/// </summary>
public static class RecoverBench
{
    public static async Task<int> RunAsync(string directory, int count)
    {
        var tools = AzuriteProcess.FindToolDirectory(directory) ?? throw new InvalidOperationException("tools/azurite not found.");
        var accountKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var localSecretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        Console.Error.WriteLine("Starting Azurite (in memory)...");
        await using var azurite = await AzuriteProcess.StartAsync(tools, AzuriteProcess.FreePort(), null, $"devstoreaccount1:{accountKey}", null, CancellationToken.None,
            queuePort: AzuriteProcess.FreePort(), blobPort: AzuriteProcess.FreePort());
        var connectionString = azurite.ConnectionString(accountKey);
        await using var receiver = await BenchReceiver.StartAsync();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development, ContentRootPath = directory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = connectionString, ["LocalSecrets:Key"] = localSecretsKey,
        });
        builder.Logging.ClearProviders();
        builder.AddWebhookCore();
        using var services = builder.Build();
        await services.StartAsync();
        var merchant = await services.Services.GetRequiredService<MerchantService>().CreateAsync("Recover bench", CancellationToken.None);
        var application = await services.Services.GetRequiredService<ApplicationService>().CreateAsync(merchant.Id, "recover", CancellationToken.None);
        var key = await services.Services.GetRequiredService<ApiKeyService>().CreateAsync(merchant.Id, "bench", null, CancellationToken.None);

        Console.Error.WriteLine("Starting the delivering host...");
        await using var host = await StandaloneProcess.StartAsync(directory,
        [
            $"Storage:ConnectionString={connectionString}", $"LocalSecrets:Key={localSecretsKey}",
            "Delivery:RunWorkers=true", "Delivery:QueuePrefix=benchrecover", "Delivery:SweepIntervalSeconds=3600",
            "Storage:NetworkTimeoutSeconds=30", "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true", "Webhooks:RequireVerification=false",
            "Limits:RequestsPerSecondPerKey=1000000", "Limits:BurstPerKey=1000000", "Limits:CostlyPerMinutePerKey=1000000",
        ], CancellationToken.None);
        using var http = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
        using var created = await http.PostAsJsonAsync($"/api/v1/applications/{application.Id}/webhooks", new { url = new Uri(receiver.BaseAddress, "/recovered").ToString() });
        created.EnsureSuccessStatusCode();
        var webhookId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        Console.Error.WriteLine($"Seeding {count:N0} failed deliveries...");
        var clock = Stopwatch.StartNew();
        var at = Timestamps.Truncate(DateTimeOffset.UtcNow.AddMinutes(-10));
        await SeedAsync(new TableServiceClient(connectionString), merchant.Id, application.Id, webhookId, count, at);
        var seeding = clock.Elapsed;
        var baseline = host.PeakResidentBytes();

        var path = $"/api/v1/applications/{application.Id}/webhooks/{webhookId}/recover";
        var since = DateTimeOffset.UtcNow.AddHours(-1).ToString("O", CultureInfo.InvariantCulture);
        clock.Restart();
        using var dry = await http.PostAsJsonAsync(path, new { since, dryRun = true });
        dry.EnsureSuccessStatusCode();
        var matched = (await dry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("matched").GetInt64();
        var dryRun = clock.Elapsed;

        Console.Error.WriteLine($"Dry run: {matched:N0} in {dryRun.TotalSeconds:0.0} s; starting the job...");
        clock.Restart();
        using var started = await http.PostAsJsonAsync(path, new { since });
        started.EnsureSuccessStatusCode();
        var location = started.Headers.Location!.ToString();
        JsonElement job;
        while (true)
        {
            await Task.Delay(250);
            using var read = await http.GetAsync(location);
            if (!read.IsSuccessStatusCode)
            {
                continue;
            }

            job = await read.Content.ReadFromJsonAsync<JsonElement>();
            if (job.GetProperty("status").GetString() != "RUNNING")
            {
                break;
            }
        }

        var completed = clock.Elapsed;
        Console.Error.WriteLine($"Job {job.GetProperty("status").GetString()} in {completed.TotalSeconds:0.0} s; waiting for the receiver...");
        var allArrived = await receiver.WaitForAsync(count, TimeSpan.FromMinutes(30));
        var delivered = clock.Elapsed;
        var peak = host.PeakResidentBytes();

        Console.WriteLine();
        Console.WriteLine($"## Recover job, {count:N0} failed deliveries of one webhook (receiver answers 204)");
        Console.WriteLine();
        Console.WriteLine("| Measure | Value |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| Seeding (direct table batches, not timed below) | {seeding.TotalSeconds:0.0} s |");
        Console.WriteLine($"| Dry run (count) | {dryRun.TotalSeconds:0.0} s, matched {matched:N0} |");
        Console.WriteLine($"| Job RUNNING → {job.GetProperty("status").GetString()} (every delivery back to PENDING, attempt queued) | {completed.TotalSeconds:0.0} s ({count / completed.TotalSeconds:0} deliveries/s), matched {job.GetProperty("matched").GetInt64():N0}, resent {job.GetProperty("resent").GetInt64():N0} |");
        Console.WriteLine($"| Job start → last delivery at the receiver | {(allArrived ? $"{delivered.TotalSeconds:0.0} s ({count / delivered.TotalSeconds:0} deliveries/s)" : $"not all within 30 min ({receiver.Count:N0})")} |");
        Console.WriteLine($"| Delivering host peak RSS (VmHWM) | {peak / 1048576.0:0} MB (before the job: {baseline / 1048576.0:0} MB) |");
        return allArrived && job.GetProperty("status").GetString() == "COMPLETED" && matched == count ? 0 : 1;
    }

    /// <summary>FAILED deliveries after one 500, with their events: 100 rows per transaction, 16 transactions at once.</summary>
    private static async Task SeedAsync(TableServiceClient tables, string merchantId, string applicationId, string webhookId, int count, DateTimeOffset at)
    {
        var events = tables.GetTableClient(TableNames.Events);
        var deliveries = tables.GetTableClient(TableNames.Deliveries);
        var payload = Encoding.UTF8.GetBytes("""{"seeded":true}""");
        var targets = JsonSerializer.Serialize(new[] { webhookId });
        var batches = new List<Func<Task>>();
        foreach (var chunk in Enumerable.Range(0, count).Select(_ => Ids.New()).Chunk(100))
        {
            batches.Add(() => events.SubmitTransactionAsync(chunk.Select(id =>
            {
                var row = EventEntity.ToEntity(new EventRecord
                {
                    Id = id, MerchantId = merchantId, ApplicationId = applicationId, EventType = "session.completed", Payload = payload, CreatedAt = at,
                });
                row["Targets"] = targets;
                return new TableTransactionAction(TableTransactionActionType.Add, row);
            })));
            batches.Add(() => deliveries.SubmitTransactionAsync(chunk.Select(id => new TableTransactionAction(TableTransactionActionType.Add,
                DeliveryEntity.ToEntity(new Delivery
                {
                    WebhookId = webhookId, EventId = id, ApplicationId = applicationId, MerchantId = merchantId, EventType = "session.completed",
                    Status = DeliveryStatus.Failed, Attempts = 1, ScheduledAttempts = 1, LastAttemptAt = at, LastHttpStatus = 500, CreatedAt = at,
                })))));
        }

        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < batches.Count; i = Interlocked.Increment(ref next))
            {
                await batches[i]();
            }
        }));
    }
}
