using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Development;

namespace WebhookFunctions.Bench;

/// <summary>Deliveries counted over one phase: how many, how fast, and the storage requests they took.</summary>
public sealed record DeliveryRun(string Name, int Deliveries, int Expected, double PerSecond, StorageCounts Storage, IReadOnlyList<StorageWait> Waits)
{
    public double Per(long count) => Deliveries == 0 ? double.NaN : (double)count / Deliveries;
}

/// <summary>One pass of DeliverySweeper: the storage requests it made, how long it took, and the account it swept.</summary>
public sealed record SweepRun(StorageCounts Storage, double Milliseconds, int Applications, int Webhooks, string? Error);

/// <summary>One kind of storage request in a phase: how many, and Azurite's mean time to the first byte of the answer.</summary>
public sealed record StorageWait(string Kind, long Count, double MeanMs);

/// <summary>What the delivery part of the benchmark measured.</summary>
public sealed record DeliveryResults(
    Latency ApiPublish1, Latency RawPublish1, Latency ApiPublish16, Latency RawPublish16,
    DeliveryRun HostDrain, DeliveryRun RawDrain, DeliveryRun Paced, Latency PublishToReceiver,
    double GetStorageRequests, long DeliveryHostPeakRss, SweepRun Sweep)
{
    public IEnumerable<Latency> Latencies => [ApiPublish1, RawPublish1, ApiPublish16, RawPublish16, PublishToReceiver];

    public int Errors => Latencies.Sum(l => l.Errors) + new[] { HostDrain, RawDrain, Paced }.Sum(r => r.Expected - r.Deliveries);
}

/// <summary>
/// Publishing and delivery (issue "Deliver events", §Benchmark), on the run's one Azurite:
/// <list type="bullet">
/// <item>publish through the API host (workers off, so only the publish is timed) against the writes a
/// publish needs made with the SDKs: the Events transaction (event, pending marker, externalId index) and one queue send;</item>
/// <item>a backlog of events, 1 event → 5 webhooks, drained by a standalone host with workers on against the same
/// backlog drained by <see cref="RawDeliveryLoop"/>, both POSTing to the same in-bench receiver;</item>
/// <item>publish-to-receiver latency through the API at half the host's drain rate;</item>
/// <item>storage requests counted by <see cref="CountingProxy"/> pairs: one in front of Azurite for the
/// delivering host, one for the raw loop, so each side pays the same forwarding cost.</item>
/// </list>
/// </summary>
public sealed class DeliveryBench(
    string directory, AzuriteProcess azurite, string accountKey, string localSecretsKey, bool quick,
    HttpClient api, string apiKey, string merchantId, ApplicationService applications, Tables directTables)
{
    public const int WebhooksPerEvent = 5;
    private const string EventType = "session.completed";
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes(
        """{"sessionId":"cs_7f3a9c2e41b04d8e","amount":4200,"currency":"EUR","customer":{"email":"someone@example.com","country":"NL"},"metadata":{"order":"A-10492"}}""");

    private static readonly JsonElement PayloadElement = JsonDocument.Parse(Payload).RootElement.Clone();

    private static readonly JsonSerializerOptions OmitNulls = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private QueueServiceClient? _directQueuesClient;

    private QueueServiceClient DirectQueues => _directQueuesClient ??=
        new(Connection(azurite.Port, azurite.QueuePort!.Value), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    private int Scaled(int full) => Math.Max(50, (int)(full * (quick ? 0.2 : 1.0)));

    private string Connection(int tablePort, int queuePort) =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={accountKey};TableEndpoint=http://127.0.0.1:{tablePort}/devstoreaccount1;"
        + $"QueueEndpoint=http://127.0.0.1:{queuePort}/devstoreaccount1;BlobEndpoint=http://127.0.0.1:{azurite.BlobPort}/devstoreaccount1;";

    public async Task<DeliveryResults> RunAsync()
    {
        // Publish: the API host runs no workers, so only the publish is timed.
        Console.Error.WriteLine("Measuring publish...");
        var publishApp = (await applications.CreateAsync(merchantId, "publish", CancellationToken.None)).Id;
        var publishQueue = DirectQueues.GetQueueClient(DeliveryQueues.FanOutName);
        await publishQueue.CreateIfNotExistsAsync();
        Task<bool> ApiPublish(int i) => PublishAsync(api, publishApp, $"bench-{Guid.NewGuid():N}");
        Task<bool> RawPublish(int i) => RawPublishAsync(publishApp, publishQueue, $"bench-{Guid.NewGuid():N}", TimeSpan.Zero);
        var apiPublish1 = await Latency.MeasureAsync("Publish event (API)", 1, Scaled(1000), ApiPublish);
        var rawPublish1 = await Latency.MeasureAsync("Events transaction + queue send (raw)", 1, Scaled(1000), RawPublish);
        var apiPublish16 = await Latency.MeasureAsync("Publish event (API)", 16, Scaled(2000), ApiPublish);
        var rawPublish16 = await Latency.MeasureAsync("Events transaction + queue send (raw)", 16, Scaled(2000), RawPublish);

        // A delivering host whose storage traffic goes through counting proxies.
        Console.Error.WriteLine("Starting the delivering host...");
        await using var hostTables = new CountingProxy("table", azurite.Port);
        await using var hostQueues = new CountingProxy("queue", azurite.QueuePort!.Value);
        StorageCounts HostCounts() => hostTables.Snapshot() + hostQueues.Snapshot();
        const string hostPrefix = "benchhost";
        await using var host = await StandaloneProcess.StartAsync(directory,
        [
            $"Storage:ConnectionString={Connection(hostTables.Port, hostQueues.Port)}", $"LocalSecrets:Key={localSecretsKey}",
            // The sweep runs once as the host starts, not again during the timed phases: on Azurite one pass scans whole
            // tables on its single thread, long enough to time out the workers' requests (it is counted on its own below).
            "Delivery:RunWorkers=true", $"Delivery:QueuePrefix={hostPrefix}", "Delivery:SweepIntervalSeconds=3600",
            // Azurite on a busy machine can stall for seconds: a longer storage timeout on both sides (here and the raw
            // loop) keeps a stall a slow delivery rather than a lost one that comes back only when its lease ends.
            "Storage:NetworkTimeoutSeconds=30", "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true",
            "Limits:PublishPerSecondPerMerchant=1000000",
            // The bench's receiver does not answer challenges: verification would park every delivery measured here.
            "Webhooks:RequireVerification=false",
        ], CancellationToken.None);
        using var hostHttp = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        hostHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        await using var receiver = await BenchReceiver.StartAsync();

        var hostApp = (await applications.CreateAsync(merchantId, "deliver (host)", CancellationToken.None)).Id;
        var rawApp = (await applications.CreateAsync(merchantId, "deliver (raw)", CancellationToken.None)).Id;
        var hostWebhooks = new List<string>();
        for (var i = 0; i < WebhooksPerEvent; i++)
        {
            hostWebhooks.Add(await CreateWebhookAsync(hostHttp, hostApp, new Uri(receiver.BaseAddress, $"/host/{i}")));
            await CreateWebhookAsync(hostHttp, rawApp, new Uri(receiver.BaseAddress, $"/raw/{i}"));
        }

        // The host sweeps once as it starts, a request per application and per webhook in the account: let it finish first.
        var quiet = Stopwatch.StartNew();
        for (var last = hostTables.Snapshot().Requests; quiet.Elapsed < TimeSpan.FromSeconds(120);)
        {
            await Task.Delay(1000);
            var now = hostTables.Snapshot().Requests;
            if (now == last)
            {
                break;
            }

            last = now;
        }

        // Warm the host's delivery path (JIT, connections) before anything is timed.
        for (var i = 0; i < 10; i++)
        {
            await PublishAsync(hostHttp, hostApp, null);
        }

        await receiver.WaitForAsync(10 * WebhooksPerEvent, TimeSpan.FromSeconds(60));
        await Task.Delay(500);
        receiver.Take();

        // Storage requests one GET of a webhook makes, counted (after the warm-up, so the sweep the host runs as it starts is over).
        var getCount = Scaled(250);
        var beforeGets = hostTables.Snapshot();
        for (var i = 0; i < getCount; i++)
        {
            using var response = await hostHttp.GetAsync($"/api/v1/applications/{hostApp}/webhooks/{hostWebhooks[0]}");
            response.EnsureSuccessStatusCode();
        }

        var getStorageRequests = (double)(hostTables.Snapshot() - beforeGets).TableReads / getCount;
        if (Environment.GetEnvironmentVariable("BENCH_TRACE") == "1")
        {
            hostTables.Trace = new ConcurrentQueue<string>();
            using (var response = await hostHttp.GetAsync($"/api/v1/applications/{hostApp}/webhooks/{hostWebhooks[0]}"))
            {
                response.EnsureSuccessStatusCode();
            }

            await Task.Delay(200);
            Console.Error.WriteLine("Table requests around one GET:\n  " + string.Join("\n  ", hostTables.Trace));
            hostTables.Trace = null;
        }

        var backlog = quick ? 40 : 200;
        var drainDeadline = TimeSpan.FromSeconds(quick ? 60 : 180);
        var fillRate = Math.Max(20, rawPublish16.PerSecond);

        Console.Error.WriteLine($"Draining {backlog} events x {WebhooksPerEvent} webhooks through the host...");
        var hostDrain = await DrainAsync("Backlog drain, standalone host", hostApp, DirectQueues.GetQueueClient(hostPrefix + "-fanout"), backlog, fillRate,
            receiver, HostCounts, drainDeadline, run: null, [hostTables, hostQueues]);

        Console.Error.WriteLine($"Draining {backlog} events x {WebhooksPerEvent} webhooks through the raw SDK loop...");
        await using var rawTables = new CountingProxy("table", azurite.Port);
        await using var rawQueues = new CountingProxy("queue", azurite.QueuePort!.Value);
        using var rawServices = await StartRawServicesAsync(Connection(rawTables.Port, rawQueues.Port), "benchraw");
        var rawQueuesClient = rawServices.Services.GetRequiredService<DeliveryQueues>();
        using var raw = new RawDeliveryLoop(
            rawServices.Services.GetRequiredService<Tables>(), rawQueuesClient.FanOut, rawQueuesClient.Attempts,
            rawServices.Services.GetRequiredService<ISecretStore>(), inHand: new DeliveryOptions().BatchSize);
        var rawDrain = await DrainAsync("Backlog drain, raw SDK loop", rawApp, DirectQueues.GetQueueClient("benchraw-fanout"), backlog, fillRate,
            receiver, () => rawTables.Snapshot() + rawQueues.Snapshot(), drainDeadline, run: raw.RunAsync, [rawTables, rawQueues]);

        if (raw.FirstFailure is not null)
        {
            Console.Error.WriteLine($"The raw loop failed {raw.Failures} messages; the first: {raw.FirstFailure}");
        }

        // Publish-to-receiver latency at half the host's drain rate, publishing through the delivering host's API.
        // Math.Max passes a NaN through: a drain rate that could not be measured (seen once in CI) paces at 1/s.
        var halfDrain = hostDrain.PerSecond / 2 / WebhooksPerEvent;
        var eventsPerSecond = double.IsFinite(halfDrain) ? Math.Max(1, halfDrain) : 1;
        var seconds = quick ? 4 : 15;
        var events = Math.Max(5, (int)(eventsPerSecond * seconds));
        Console.Error.WriteLine($"Publishing {events} events at {eventsPerSecond:F1}/s ({eventsPerSecond * WebhooksPerEvent:F0} deliveries/s) through the host...");
        var (paced, publishToReceiver) = await PacedAsync(hostHttp, hostApp, events, eventsPerSecond, receiver, HostCounts, [hostTables, hostQueues]);

        // One sweep pass over the account as it now is, counted: what every Delivery:SweepIntervalSeconds costs.
        // Last, so its table scans disturb nothing timed.
        Console.Error.WriteLine("Counting one sweep pass...");
        var beforeSweep = rawTables.Snapshot() + rawQueues.Snapshot();
        var sweepTime = Stopwatch.StartNew();
        string? sweepError = null;
        try
        {
            await rawServices.Services.GetRequiredService<DeliverySweeper>().SweepAsync(CancellationToken.None);
        }
        catch (Exception exception) when (exception is AggregateException or Azure.RequestFailedException or HttpRequestException)
        {
            sweepError = exception.GetType().Name + ": " + exception.Message.Split('(')[0].Trim();
        }

        var sweep = new SweepRun(rawTables.Snapshot() + rawQueues.Snapshot() - beforeSweep, sweepTime.Elapsed.TotalMilliseconds,
            await CountAsync(directTables.ApplicationOwners, null), await CountAsync(directTables.Webhooks, $"{Core.Webhooks.WebhookEntity.Url} gt ''"), sweepError);

        if (host.HasExited)
        {
            throw new InvalidOperationException("The delivering host exited during the run. Its output:\n" + host.Output);
        }

        return new DeliveryResults(apiPublish1, rawPublish1, apiPublish16, rawPublish16, hostDrain, rawDrain, paced, publishToReceiver,
            getStorageRequests, host.PeakResidentBytes(), sweep);
    }

    private static async Task<int> CountAsync(TableClient table, string? filter)
    {
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey"]))
        {
            count++;
        }

        return count;
    }

    private static async Task<bool> PublishAsync(HttpClient http, string applicationId, string? externalId)
    {
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new
        {
            eventType = EventType,
            externalId,
            payload = PayloadElement,
        }, OmitNulls));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync($"/api/v1/applications/{applicationId}/events", content);
        await response.Content.CopyToAsync(Stream.Null);
        return response.IsSuccessStatusCode;
    }

    /// <summary>What a publish must write: event, pending marker and externalId index in one transaction, then the fan-out message.</summary>
    private async Task<bool> RawPublishAsync(string applicationId, QueueClient fanOut, string? externalId, TimeSpan visibility)
    {
        var e = new EventRecord
        {
            Id = Ids.New(), MerchantId = merchantId, ApplicationId = applicationId, EventType = EventType, ExternalId = externalId,
            Payload = Payload, CreatedAt = Timestamps.Truncate(DateTimeOffset.UtcNow),
        };
        var actions = new List<TableTransactionAction>
        {
            new(TableTransactionActionType.Add, EventEntity.ToEntity(e)),
            new(TableTransactionActionType.Add, EventEntity.Pending(e)),
        };
        if (externalId is not null)
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, EventEntity.ExternalIndex(e, EventEntity.RequestHash(EventType, Payload))));
        }

        try
        {
            await directTables.Events.SubmitTransactionAsync(actions);
        }
        catch (TableTransactionFailedException exception) when (exception.Status == 409 && externalId is null)
        {
            // The id is new, so a conflict means the SDK retried a transaction whose first answer was lost: it is stored.
        }

        await fanOut.SendMessageAsync(DeliveryQueues.Serialize(new FanOutMessage(merchantId, applicationId, e.Id)), visibility > TimeSpan.Zero ? visibility : null);
        return true;
    }

    /// <summary>
    /// Stores <paramref name="events"/> events with fan-out messages hidden until one moment, so the
    /// whole backlog appears at once, then times its drain from the receiver's side: the rate is taken
    /// between the 10th and the 90th percentile of arrivals, leaving out the start and the tail.
    /// </summary>
    private async Task<DeliveryRun> DrainAsync(
        string name, string applicationId, QueueClient fanOut, int events, double fillRate, BenchReceiver receiver, Func<StorageCounts> counts,
        TimeSpan deadline, Func<CancellationToken, Task>? run, CountingProxy[] proxies)
    {
        var expected = events * WebhooksPerEvent;
        var visibleAt = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1.5 + (2.0 * events / fillRate));
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < events)
            {
                var wait = Math.Max(1, Math.Ceiling((visibleAt - DateTimeOffset.UtcNow).TotalSeconds));
                await RawPublishAsync(applicationId, fanOut, null, TimeSpan.FromSeconds(wait));
            }
        })));

        receiver.Take();
        var before = counts();
        var waitsBefore = WaitsOf(proxies);
        using var stop = new CancellationTokenSource();
        var running = run?.Invoke(stop.Token) ?? Task.CompletedTask;
        await receiver.WaitForAsync(expected, deadline + (visibleAt - DateTimeOffset.UtcNow));

        // The last message deletes come after the last POSTs: counted once every handled message is gone.
        var settle = Stopwatch.StartNew();
        while ((counts() - before).QueueDeletes < events + expected && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        var storage = counts() - before;
        await stop.CancelAsync();
        await running;
        var arrivals = receiver.Take().Select(a => a.At).Order().ToArray();
        return new DeliveryRun(name, arrivals.Length, expected, RateBetween(arrivals, 0.1, 0.9), storage, Difference(WaitsOf(proxies), waitsBefore));
    }

    private static Dictionary<string, (long Count, long Ticks)> WaitsOf(CountingProxy[] proxies) =>
        proxies.SelectMany(p => p.Waits()).ToDictionary(p => p.Key, p => p.Value);

    private static List<StorageWait> Difference(Dictionary<string, (long Count, long Ticks)> after, Dictionary<string, (long Count, long Ticks)> before) =>
        after.Select(p =>
            {
                var (count, ticks) = before.TryGetValue(p.Key, out var b) ? (p.Value.Count - b.Count, p.Value.Ticks - b.Ticks) : p.Value;
                return new StorageWait(p.Key, count, count == 0 ? 0 : ticks * 1000.0 / Stopwatch.Frequency / count);
            })
            .Where(w => w.Count > 0).OrderByDescending(w => w.Count * w.MeanMs).ToList();

    private static double RateBetween(long[] arrivals, double from, double to)
    {
        if (arrivals.Length < 10)
        {
            return double.NaN;
        }

        var first = (int)(arrivals.Length * from);
        var last = (int)(arrivals.Length * to) - 1;
        return (last - first) / Stopwatch.GetElapsedTime(arrivals[first], arrivals[last]).TotalSeconds;
    }

    /// <summary>Publishes on a fixed schedule (open loop: a slow publish does not delay the next) and times each delivery from the client's send.</summary>
    private static async Task<(DeliveryRun Run, Latency Latency)> PacedAsync(
        HttpClient http, string applicationId, int events, double perSecond, BenchReceiver receiver, Func<StorageCounts> counts, CountingProxy[] proxies)
    {
        var sentAt = new ConcurrentDictionary<string, long>();
        var failed = 0;
        receiver.Take();
        var before = counts();
        var waitsBefore = WaitsOf(proxies);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, events).Select(async i =>
        {
            var due = TimeSpan.FromSeconds(i / perSecond) - Stopwatch.GetElapsedTime(started);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            var sent = Stopwatch.GetTimestamp();
            using var content = JsonContent.Create(new { eventType = EventType, payload = PayloadElement });
            await content.LoadIntoBufferAsync();
            using var response = await http.PostAsync($"/api/v1/applications/{applicationId}/events", content);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref failed);
                return;
            }

            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            sentAt[id] = sent;
        }));

        var expected = events * WebhooksPerEvent;
        await receiver.WaitForAsync(expected, TimeSpan.FromSeconds(30));
        var settle = Stopwatch.StartNew();
        while ((counts() - before).QueueDeletes < events + expected && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        var storage = counts() - before;
        var elapsed = Stopwatch.GetElapsedTime(started);
        var arrivals = receiver.Take();
        var latencies = arrivals.Where(a => sentAt.ContainsKey(a.EventId))
            .Select(a => Stopwatch.GetElapsedTime(sentAt[a.EventId], a.At).TotalMilliseconds).ToArray();
        var missing = expected - latencies.Length;
        return (new DeliveryRun("Paced at half the drain rate, host, end to end", arrivals.Count, expected, arrivals.Count / elapsed.TotalSeconds, storage,
                Difference(WaitsOf(proxies), waitsBefore)),
            new Latency("Publish to receiver (host, paced)", 1, latencies, missing + failed, elapsed));
    }

    private static async Task<string> CreateWebhookAsync(HttpClient http, string applicationId, Uri url)
    {
        using var response = await http.PostAsJsonAsync($"/api/v1/applications/{applicationId}/webhooks", new { url = url.ToString() });
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Creating a webhook for {url} failed: {(int)response.StatusCode} {text}");
        }

        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>The raw loop's clients: the product's own client registration, with nothing else running.</summary>
    private async Task<IHost> StartRawServicesAsync(string connectionString, string queuePrefix)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Development, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = connectionString,
            ["LocalSecrets:Key"] = localSecretsKey,
            ["Delivery:QueuePrefix"] = queuePrefix,
            ["Storage:NetworkTimeoutSeconds"] = "30",
            // The measured sweep only reads: the publish benchmark's events were never meant to be fanned out.
            ["Delivery:RedriveAfterSeconds"] = "86400",
        });
        builder.Logging.ClearProviders();
        builder.AddWebhookDelivery();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
