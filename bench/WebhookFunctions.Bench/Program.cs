using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Hosting;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Bench;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Signing;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Webhooks;
using WebhookFunctions.Development;

// The floor server is this program too, started again as a child process (see FloorServer).
if (args.Length > 0 && args[0] == FloorServer.Argument)
{
    await FloorServer.RunAsync(args[1..]);
    return 0;
}

// The recover job phase is opt-in and runs alone, on an Azurite of its own (see RecoverBench).
if (args.Contains("--recover"))
{
    var recoverCount = args.Select(a => a.StartsWith("--recover-count=", StringComparison.Ordinal) ? int.Parse(a[16..], CultureInfo.InvariantCulture) : 0).Max();
    return await RecoverBench.RunAsync(AppContext.BaseDirectory, recoverCount > 0 ? recoverCount : 100_000);
}

// One run, one Azurite: every ratio below compares numbers measured side by side in this process.
var quick = args.Contains("--quick");
var scale = quick ? 0.2 : 1.0;
int Samples(int full) => Math.Max(50, (int)(full * scale));

var repositoryRoot = FindRepositoryRoot();
var tools = AzuriteProcess.FindToolDirectory(AppContext.BaseDirectory) ?? throw new InvalidOperationException("tools/azurite not found.");
var accountKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
Console.Error.WriteLine("Starting Azurite (in memory)...");
await using var azurite = await AzuriteProcess.StartAsync(tools, AzuriteProcess.FreePort(), null, $"devstoreaccount1:{accountKey}", null, CancellationToken.None,
    queuePort: AzuriteProcess.FreePort(), blobPort: AzuriteProcess.FreePort());
var connectionString = azurite.ConnectionString(accountKey);
var localSecretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

// Start to first 200, measured from outside: a separate process, as an operator would start it.
Console.Error.WriteLine("Starting the standalone host...");
// The rate limits are lifted: this measures the cost of the work, not the limits' refusals.
var hostStart = Stopwatch.StartNew();
await using var host = await StandaloneProcess.StartAsync(AppContext.BaseDirectory,
    // No delivery workers here: publishes through this host time the publish alone, and nothing else runs beside the GETs.
    [$"Storage:ConnectionString={connectionString}", $"LocalSecrets:Key={localSecretsKey}", "Webhooks:MaxPerApplication=1000", "Delivery:RunWorkers=false",
     "Limits:RequestsPerSecondPerKey=1000000", "Limits:BurstPerKey=1000000", "Limits:CostlyPerMinutePerKey=1000000",
     "Limits:UnauthenticatedPerSecondPerIp=1000000", "Limits:PublishPerSecondPerMerchant=1000000"], CancellationToken.None);
var startToFirst200 = hostStart.Elapsed;
AppDomain.CurrentDomain.UnhandledException += (_, _) =>
{
    if (host.HasExited)
    {
        Console.Error.WriteLine("The API host exited during the run. Its output:\n" + host.Output);
    }
};
using var http = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
Console.Error.WriteLine("Starting the floor server...");
await using var floor = await FloorProcess.StartAsync(AppContext.BaseDirectory);
using var floorHttp = new HttpClient { BaseAddress = floor.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

using var cached = await StartServicesAsync(cacheSeconds: 30);
using var uncached = await StartServicesAsync(cacheSeconds: 0);
var services = cached.Services;
var tables = services.GetRequiredService<Tables>();

var merchant = await services.GetRequiredService<MerchantService>().CreateAsync("Bench merchant", CancellationToken.None);
var applications = services.GetRequiredService<ApplicationService>();
var getApp = await applications.CreateAsync(merchant.Id, "get", CancellationToken.None);
var listApp = await applications.CreateAsync(merchant.Id, "list", CancellationToken.None);
// Creates spread over 16 applications, one per client: each application's webhook counter is a
// single row that every create on it must update, so 16 clients on one application measure
// that contention rather than the create path.
var createApps = new List<string>();
for (var i = 0; i < 16; i++)
{
    createApps.Add((await applications.CreateAsync(merchant.Id, $"create {i}", CancellationToken.None)).Id);
}

var key = await services.GetRequiredService<ApiKeyService>().CreateAsync(merchant.Id, "bench", null, CancellationToken.None);
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.Key);
floorHttp.DefaultRequestHeaders.Authorization = http.DefaultRequestHeaders.Authorization;

var webhookId = await CreateWebhookAsync(getApp.Id);
await Task.WhenAll(Enumerable.Range(0, 8).Select(async worker =>
{
    for (var i = worker; i < 100; i += 8)
    {
        await CreateWebhookAsync(listApp.Id);
    }
}));

Console.Error.WriteLine("Measuring...");
var getPath = $"/api/v1/applications/{getApp.Id}/webhooks/{webhookId}";
var rowKey = WebhookEntity.RowKeyOf(getApp.Id, webhookId);
Task<bool> ApiGet(int _) => OkAsync(http.GetAsync(getPath));
Task<bool> FloorGet(int _) => OkAsync(floorHttp.GetAsync(getPath));
async Task<bool> RawGet(int _)
{
    var entity = await tables.Webhooks.GetEntityAsync<TableEntity>(merchant.Id, rowKey);
    return entity.Value.GetString(WebhookEntity.WebhookId) == webhookId;
}

var apiGet1 = await Latency.MeasureAsync("GET webhook (API)", 1, Samples(2000), ApiGet);
var rawGet1 = await Latency.MeasureAsync("GET entity (raw TableClient)", 1, Samples(2000), RawGet);
var floorGet1 = await Latency.MeasureAsync("GET, empty Kestrel app (floor)", 1, Samples(2000), FloorGet);
var apiGet16 = await Latency.MeasureAsync("GET webhook (API)", 16, Samples(4000), ApiGet);
var rawGet16 = await Latency.MeasureAsync("GET entity (raw TableClient)", 16, Samples(4000), RawGet);
var floorGet16 = await Latency.MeasureAsync("GET, empty Kestrel app (floor)", 16, Samples(4000), FloorGet);
var list100 = await Latency.MeasureAsync("List 100 webhooks (API)", 1, Samples(400),
    _ => OkAsync(http.GetAsync($"/api/v1/applications/{listApp.Id}/webhooks?limit=100")));

var apiCreate = await Latency.MeasureAsync("Create webhook (API)", 16, Samples(800),
    i => OkAsync(http.PostAsJsonAsync($"/api/v1/applications/{createApps[i % createApps.Count]}/webhooks", new { url = $"https://bench.example.com/{Guid.NewGuid():N}" })), warmup: 0);
var secrets = services.GetRequiredService<ISecretStore>();
var rawCreate = await Latency.MeasureAsync("Secret write + table transaction (raw)", 16, Samples(800), async i =>
{
    var id = Ids.New();
    var version = await secrets.SetAsync(SecretNames.ForWebhook(id), SigningSecret.Generate(), SecretNames.Tags(merchant.Id, "bench-raw", id), CancellationToken.None);
    var url = $"https://bench.example.com/{id}";
    var record = WebhookEntity.ToEntity(new Webhook
    {
        MerchantId = merchant.Id, ApplicationId = "raw", Id = id, Url = url, SubscribedEvents = ["*"],
        KeyFingerprint = "whsec_****", SecretVersion = version, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
    });
    var index = new WebhookUrlIndexEntity { PartitionKey = merchant.Id, RowKey = WebhookUrlIndexEntity.RowKeyOf("raw", url), WebhookId = id };
    var counter = new TableEntity(merchant.Id, $"count:raw-{Environment.CurrentManagedThreadId}-{i}") { ["Count"] = 1 };
    var result = await tables.Webhooks.SubmitTransactionAsync(
    [
        new TableTransactionAction(TableTransactionActionType.Add, record),
        new TableTransactionAction(TableTransactionActionType.Add, index),
        new TableTransactionAction(TableTransactionActionType.UpsertReplace, counter),
    ]);
    return !result.GetRawResponse().IsError;
}, warmup: 0);

var authCached = await Latency.MeasureAsync("Auth, cached key (in process)", 1, Samples(20000),
    _ => AuthenticateAsync(services.GetRequiredService<ApiKeyAuthenticator>(), key.Key), warmup: 200);
var authUncached = await Latency.MeasureAsync("Auth, uncached key (in process)", 1, Samples(2000),
    _ => AuthenticateAsync(uncached.Services.GetRequiredService<ApiKeyAuthenticator>(), key.Key));

var delivery = await new DeliveryBench(AppContext.BaseDirectory, azurite, accountKey, localSecretsKey, quick, http, key.Key, merchant.Id, applications, tables)
    .RunAsync();

var peakRss = host.PeakResidentBytes();
var measured = new[] { apiGet1, rawGet1, floorGet1, apiGet16, rawGet16, floorGet16, list100, apiCreate, rawCreate, authCached, authUncached };
var errors = measured.Sum(m => m.Errors) + delivery.Errors;

var getRatio1 = apiGet1.P50 / rawGet1.P50;
var getRatio16 = apiGet16.P50 / rawGet16.P50;
var listRatio = list100.P95 / apiGet1.P95;
var createRatio = apiCreate.PerSecond / rawCreate.PerSecond;
var authAdds = authCached.P50;
// What the API adds beyond the storage read and an empty app's HTTP round trip.
var overFloor1 = apiGet1.P50 - (rawGet1.P50 + floorGet1.P50);
var throughputRatio16 = apiGet16.PerSecond / rawGet16.PerSecond;
var publishP50Ratio1 = delivery.ApiPublish1.P50 / delivery.RawPublish1.P50;
var publishP99Ratio1 = delivery.ApiPublish1.P99 / delivery.RawPublish1.P99;
var publishP50Ratio16 = delivery.ApiPublish16.P50 / delivery.RawPublish16.P50;
var publishP99Ratio16 = delivery.ApiPublish16.P99 / delivery.RawPublish16.P99;
var deliveryRatio = delivery.HostDrain.PerSecond / delivery.RawDrain.PerSecond;
// Storage's scalability target for one account (requests per second), divided by what a delivery costs end to end.
const double AccountRequestsPerSecond = 20_000;
var requestsPerDelivery = delivery.Paced.Per(delivery.Paced.Storage.Requests);
var accountCeiling = AccountRequestsPerSecond / requestsPerDelivery;

var targets = new[]
{
    Target("GET p50 vs raw, concurrency 1", $"{getRatio1:F2}x", "<= 1.5x", getRatio1 <= 1.5),
    Target("GET p50 vs raw, concurrency 16", $"{getRatio16:F2}x", "<= 1.5x", getRatio16 <= 1.5),
    Target("GET p50 c=1 beyond raw + floor", $"{overFloor1:F3} ms", "<= 0.1 ms", overFloor1 <= 0.1),
    Target("GET throughput c=16 vs raw", $"{throughputRatio16:F2}x", ">= 0.8x", throughputRatio16 >= 0.8),
    Target("List-100 p95 vs GET p95", $"{listRatio:F2}x", "<= 3x", listRatio <= 3),
    Target("Cached-key auth p50", $"{authAdds:F4} ms", "< 0.2 ms", authAdds < 0.2),
    Target("Publish p50 vs raw, concurrency 1", $"{publishP50Ratio1:F2}x", "<= 1.5x", publishP50Ratio1 <= 1.5),
    Target("Publish p99 vs raw, concurrency 1", $"{publishP99Ratio1:F2}x", "<= 1.5x", publishP99Ratio1 <= 1.5),
    Target("Publish p50 vs raw, concurrency 16", $"{publishP50Ratio16:F2}x", "<= 1.5x", publishP50Ratio16 <= 1.5),
    Target("Publish p99 vs raw, concurrency 16", $"{publishP99Ratio16:F2}x", "<= 1.5x", publishP99Ratio16 <= 1.5),
    Target("Deliveries/s host vs raw loop", $"{deliveryRatio:F2}x", ">= 0.6x", deliveryRatio >= 0.6),
    Target("Publish to receiver p50 (half rate)", $"{delivery.PublishToReceiver.P50:F0} ms", "<= 250 ms", delivery.PublishToReceiver.P50 <= 250),
    Target("Publish to receiver p99 (half rate)", $"{delivery.PublishToReceiver.P99:F0} ms", "<= 1000 ms", delivery.PublishToReceiver.P99 <= 1000),
    Target("Delivering host peak RSS", $"{delivery.DeliveryHostPeakRss / 1048576.0:F0} MB", "<= 300 MB", delivery.DeliveryHostPeakRss <= 300L * 1024 * 1024),
    Target("Errors", errors.ToString(CultureInfo.InvariantCulture), "0", errors == 0),
    Target("Host peak RSS", $"{peakRss / 1048576.0:F0} MB", "< 300 MB", peakRss < 300L * 1024 * 1024),
};

Console.WriteLine();
Console.WriteLine($"WebhookFunctions benchmark  {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm}Z  {Environment.ProcessorCount} cores  {(quick ? "quick" : "full")} run, one Azurite (in memory)");
Console.WriteLine();
Console.WriteLine($"{"measurement",-42} {"conc",4} {"n",6} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"per s",8} {"err",4}");
foreach (var m in measured.Concat(delivery.Latencies))
{
    Console.WriteLine($"{m.Name,-42} {m.Concurrency,4} {m.Milliseconds.Length,6} {m.P50,8:F3} {m.P95,8:F3} {m.P99,8:F3} {m.PerSecond,8:F0} {m.Errors,4}");
}

Console.WriteLine();
Console.WriteLine($"{"deliveries (1 event -> 5 webhooks)",-48} {"n",6} {"per s",7} {"reads",6} {"writes",6} {"(txn)",6} {"queue",6} {"total",6}  storage requests per delivery, counted");
foreach (var run in new[] { delivery.HostDrain, delivery.RawDrain, delivery.Paced })
{
    var s = run.Storage;
    Console.WriteLine($"{run.Name,-48} {run.Deliveries,6} {run.PerSecond,7:F0} {run.Per(s.TableReads),6:F2} {run.Per(s.TableWriteRequests),6:F2} {run.Per(s.TableTransactions),6:F2} {run.Per(s.QueueCalls),6:F2} {run.Per(s.Requests),6:F2}");
}

Console.WriteLine();
Console.WriteLine("where each phase's storage time went (Azurite's time to first byte, through the counting proxies)");
foreach (var run in new[] { delivery.HostDrain, delivery.RawDrain, delivery.Paced })
{
    Console.WriteLine($"  {run.Name}: " + string.Join(", ", run.Waits.Take(8).Select(w => $"{w.Kind} {w.Count}x {w.MeanMs:F1} ms")));
}

Console.WriteLine();
Console.WriteLine($"{"ratio",-42} {"value",10}");
Console.WriteLine($"{"GET p50 API / raw, concurrency 1",-42} {getRatio1,10:F2}");
Console.WriteLine($"{"GET p99 API / raw, concurrency 1",-42} {apiGet1.P99 / rawGet1.P99,10:F2}");
Console.WriteLine($"{"GET p50 API / raw, concurrency 16",-42} {getRatio16,10:F2}");
Console.WriteLine($"{"GET p99 API / raw, concurrency 16",-42} {apiGet16.P99 / rawGet16.P99,10:F2}");
Console.WriteLine($"{"GET p50 c=1: API - (raw + floor)",-42} {overFloor1,7:F3} ms");
Console.WriteLine($"{"GET per s API / raw, concurrency 16",-42} {throughputRatio16,10:F2}");
Console.WriteLine($"{"GET per s API / floor, concurrency 16",-42} {apiGet16.PerSecond / floorGet16.PerSecond,10:F2}");
Console.WriteLine($"{"Create throughput API / raw",-42} {createRatio,10:F2}");
Console.WriteLine($"{"List-100 p95 / GET p95",-42} {listRatio,10:F2}");
Console.WriteLine($"{"Auth p50 uncached / cached",-42} {authUncached.P50 / authCached.P50,10:F0}");
Console.WriteLine($"{"Host start to first 200 on /api/health",-42} {startToFirst200.TotalMilliseconds,7:F0} ms");
Console.WriteLine($"{"Host peak RSS (VmHWM)",-42} {peakRss / 1048576.0,7:F0} MB");
Console.WriteLine($"{"Publish p50 API / raw, concurrency 1",-42} {publishP50Ratio1,10:F2}");
Console.WriteLine($"{"Publish p99 API / raw, concurrency 1",-42} {publishP99Ratio1,10:F2}");
Console.WriteLine($"{"Publish p50 API / raw, concurrency 16",-42} {publishP50Ratio16,10:F2}");
Console.WriteLine($"{"Publish p99 API / raw, concurrency 16",-42} {publishP99Ratio16,10:F2}");
Console.WriteLine($"{"Deliveries per s host / raw loop",-42} {deliveryRatio,10:F2}");
Console.WriteLine($"{"Storage requests per GET webhook",-42} {delivery.GetStorageRequests,10:F2}");
Console.WriteLine($"{"Storage requests per delivery, host (drain)",-42} {delivery.HostDrain.Per(delivery.HostDrain.Storage.Requests),10:F2}");
Console.WriteLine($"{"Storage requests per delivery, raw loop",-42} {delivery.RawDrain.Per(delivery.RawDrain.Storage.Requests),10:F2}");
Console.WriteLine($"{"Storage requests per delivery, end to end",-42} {requestsPerDelivery,10:F2}");
Console.WriteLine($"{"Account ceiling: 20,000 req/s / that",-42} {accountCeiling,7:F0} deliveries/s");
Console.WriteLine($"{"One sweep pass: storage requests",-42} {delivery.Sweep.Storage.Requests,10} ({delivery.Sweep.Applications} applications, {delivery.Sweep.Webhooks} webhooks, {delivery.Sweep.Milliseconds:F0} ms{(delivery.Sweep.Error is null ? "" : ", FAILED: " + delivery.Sweep.Error)})");
Console.WriteLine($"{"Delivering host peak RSS (VmHWM)",-42} {delivery.DeliveryHostPeakRss / 1048576.0,7:F0} MB");
Console.WriteLine();
Console.WriteLine($"{"target",-42} {"measured",12} {"goal",10}  result");
foreach (var t in targets)
{
    Console.WriteLine($"{t.Name,-42} {t.Measured,12} {t.Goal,10}  {(t.Met ? "met" : "MISSED")}");
}

var results = Path.Combine(repositoryRoot, "bench", "results");
Directory.CreateDirectory(results);
var file = Path.Combine(results, $"bench-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}.json");
await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new
{
    date = DateTimeOffset.UtcNow,
    cores = Environment.ProcessorCount,
    mode = quick ? "quick" : "full",
    measurements = measured.Concat(delivery.Latencies).Select(m => new { m.Name, m.Concurrency, samples = m.Milliseconds.Length, p50 = m.P50, p95 = m.P95, p99 = m.P99, perSecond = m.PerSecond, m.Errors }),
    ratios = new
    {
        getP50Concurrency1 = getRatio1, getP50Concurrency16 = getRatio16, createThroughput = createRatio, list100P95VsGetP95 = listRatio,
        getP50BeyondRawPlusFloorMs = overFloor1, getThroughputConcurrency16 = throughputRatio16,
        publishP50Concurrency1 = publishP50Ratio1, publishP99Concurrency1 = publishP99Ratio1,
        publishP50Concurrency16 = publishP50Ratio16, publishP99Concurrency16 = publishP99Ratio16, deliveriesPerSecond = deliveryRatio,
    },
    deliveries = new[] { delivery.HostDrain, delivery.RawDrain, delivery.Paced }.Select(r => new
    {
        r.Name, r.Deliveries, r.Expected, r.PerSecond, storage = r.Storage, waits = r.Waits,
        perDelivery = new
        {
            tableReads = r.Per(r.Storage.TableReads), tableWrites = r.Per(r.Storage.TableWriteRequests), tableTransactions = r.Per(r.Storage.TableTransactions),
            queueCalls = r.Per(r.Storage.QueueCalls), requests = r.Per(r.Storage.Requests),
        },
    }),
    storageRequestsPerGet = delivery.GetStorageRequests,
    sweep = delivery.Sweep,
    accountCeilingDeliveriesPerSecond = accountCeiling,
    deliveringHostPeakRssBytes = delivery.DeliveryHostPeakRss,
    startToFirst200Ms = startToFirst200.TotalMilliseconds,
    peakRssBytes = peakRss,
    targets,
}, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
Console.WriteLine();
Console.WriteLine($"JSON: {Path.GetRelativePath(Environment.CurrentDirectory, file)}");
return targets.Any(t => t.Name == "Errors" && !t.Met) ? 1 : 0;

async Task<string> CreateWebhookAsync(string applicationId)
{
    using var response = await http.PostAsJsonAsync($"/api/v1/applications/{applicationId}/webhooks", new { url = $"https://bench.example.com/{Guid.NewGuid():N}" });
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
}

static async Task<bool> OkAsync(Task<HttpResponseMessage> request)
{
    using var response = await request;
    await response.Content.CopyToAsync(Stream.Null);
    return response.IsSuccessStatusCode;
}

static async Task<bool> AuthenticateAsync(ApiKeyAuthenticator authenticator, string key)
{
    return await authenticator.AuthenticateAsync("Bearer " + key, CancellationToken.None) is not null;
}

async Task<IHost> StartServicesAsync(int cacheSeconds)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development, ContentRootPath = AppContext.BaseDirectory });
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Storage:ConnectionString"] = connectionString,
        ["LocalSecrets:Key"] = localSecretsKey,
        ["Auth:CacheSeconds"] = cacheSeconds.ToString(CultureInfo.InvariantCulture),
    });
    builder.Logging.ClearProviders();
    builder.AddWebhookCore();
    var host = builder.Build();
    await host.StartAsync();
    return host;
}

static string FindRepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "WebhookFunctions.sln")))
        {
            return directory.FullName;
        }
    }

    return Environment.CurrentDirectory;
}

static TargetResult Target(string name, string measured, string goal, bool met) => new(name, measured, goal, met);

internal sealed record TargetResult(string Name, string Measured, string Goal, bool Met);
