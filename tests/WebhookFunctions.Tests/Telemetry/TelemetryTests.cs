using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Telemetry;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Telemetry;

/// <summary>
/// What a host emits, read through the in-memory exporter that each test's own host gets through the
/// standard ConfigureOpenTelemetry*Provider hooks. Activity sources and meters are process-wide, so the
/// exporter also sees what other hosts of this test process emit (the shared host, the receiver): spans
/// are found by trace and request id, never by position.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class TelemetryTests(ApiFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly LockedCollection<Activity> _spans = new();
    private readonly LockedCollection<MetricSnapshot> _metrics = new();
    private TestHost _host = null!;
    private Receiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _host = await TestHost.StartAsync(fixture.ConnectionString, services =>
        {
            services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_spans));
            services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(_metrics));
        }, "Webhooks:AllowPrivateNetworks=true", "Webhooks:AllowInsecureUrls=true");
        _receiver = await Receiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task A_request_is_one_trace_down_to_the_storage_call_and_its_span_carries_the_request_id()
    {
        var tenant = await _host.NewTenantAsync();
        var created = await tenant.CreateWebhookAsync(new { url = Http.UniqueUrl() });

        using var response = await tenant.Http.GetAsync(tenant.WebhookPath(created.GetProperty("id").GetString()!));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requestId = response.Headers.GetValues(RequestScope.HeaderName).Single();

        var request = await RequestSpanAsync(requestId);
        var trace = _spans.Snapshot().Where(s => s.TraceId == request.TraceId).ToList();

        Assert.Equal(ActivityKind.Server, request.Kind);
        Assert.Equal(ApiOperations.GetWebhook, request.GetTagItem(WebhookTelemetry.OperationAttribute));

        // The table calls (the key lookup and the webhook read) are children of the request span...
        var tableCalls = trace.Where(s => s.Source.Name.StartsWith("Azure.Data.Tables", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(tableCalls);
        Assert.All(tableCalls, call => Assert.Equal(request.SpanId, call.ParentSpanId));
        Assert.Contains(tableCalls, call => call.DisplayName.StartsWith("TableClient.GetEntity", StringComparison.Ordinal));

        // ...and each HTTP request to storage is a child of a table call, once (no second HttpClient span under it).
        var storageRequests = trace.Where(s => s.Kind == ActivityKind.Client && PortOf(s) == fixture.AzuritePort).ToList();
        Assert.NotEmpty(storageRequests);
        Assert.All(storageRequests, call => Assert.Contains(call.ParentSpanId, tableCalls.Select(t => t.SpanId)));
        Assert.Equal(tableCalls.Count, storageRequests.Count);
    }

    [Fact]
    public async Task No_span_or_metric_carries_an_api_key_a_signing_secret_or_a_credential_in_a_webhook_url()
    {
        var tenant = await _host.NewTenantAsync();
        var pathToken = "p" + Guid.NewGuid().ToString("N");
        var queryToken = "q" + Guid.NewGuid().ToString("N");
        var unknownKey = ApiKeyFormat.Generate();
        var requestIds = new List<string>();

        async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, object? body = null)
        {
            using var message = new HttpRequestMessage(method, path) { Content = body is null ? null : Http.Json(body) };
            var response = await client.SendAsync(message);
            requestIds.Add(response.Headers.GetValues(RequestScope.HeaderName).Single());
            return response;
        }

        using var keyCreated = await Send(tenant.Http, HttpMethod.Post, "/api/v1/api-keys", new { name = "ci" });
        var newKey = (await keyCreated.BodyAsync()).GetProperty("key").GetString()!;
        using var created = await Send(tenant.Http, HttpMethod.Post, tenant.WebhooksPath,
            new { url = _receiver.Url($"/hooks/{pathToken}") + $"?auth={queryToken}" });
        var webhook = await created.BodyAsync();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var path = tenant.WebhookPath(webhook.GetProperty("id").GetString()!);
        var secret = webhook.GetProperty("signingSecret").GetString()!;
        using var rotated = await Send(tenant.Http, HttpMethod.Post, path + "/rotate-secret");
        var newSecret = (await rotated.BodyAsync()).GetProperty("signingSecret").GetString()!;
        using var tested = await Send(tenant.Http, HttpMethod.Post, path + "/test");
        Assert.Equal("SUCCEEDED", (await tested.BodyAsync()).GetProperty("status").GetString());
        using var newKeyClient = _host.Client(newKey);
        using var readWithNewKey = await Send(newKeyClient, HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.OK, readWithNewKey.StatusCode);
        using var unknownKeyClient = _host.Client(unknownKey);
        using var refused = await Send(unknownKeyClient, HttpMethod.Get, path);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        var requests = new List<Activity>();
        foreach (var id in requestIds)
        {
            requests.Add(await RequestSpanAsync(id));
        }

        // The delivery's own client span, so the scan below covers the URL it went to.
        var testRequest = requests[3];
        var delivery = Assert.Single(_spans.Snapshot(), s => s.TraceId == testRequest.TraceId && s.Kind == ActivityKind.Client && PortOf(s) == _receiver.Port);
        Assert.Equal(new Uri(_receiver.BaseAddress, "/").ToString(), delivery.GetTagItem("url.full"));
        var metrics = await FlushMetricsAsync(m => m.Any(s => s.Name == WebhookTelemetry.RequestsInstrument));

        string[] forbidden =
        [
            tenant.ApiKey, tenant.ApiKey[ApiKeyFormat.Prefix.Length..],
            newKey, newKey[ApiKeyFormat.Prefix.Length..],
            unknownKey, unknownKey[ApiKeyFormat.Prefix.Length..],
            secret, secret["whsec_".Length..], newSecret, newSecret["whsec_".Length..],
            pathToken, queryToken, "Bearer",
        ];

        // The receiver is a third party that happens to run in this process; its own server spans show
        // the path it was called on, which is its business. Everything else here is ours.
        var ours = _spans.Snapshot().Where(s => !(s.Kind == ActivityKind.Server && PortOf(s) == _receiver.Port)).ToList();
        var texts = ours.SelectMany(s => TextsOf(s).Select(t => (Where: $"span '{s.DisplayName}' ({s.Source.Name})", Text: t)))
            .Concat(metrics.SelectMany(m => TextsOf(m).Select(t => (Where: $"metric '{m.Name}'", Text: t))))
            .ToList();
        var leaks = texts
            .SelectMany(t => forbidden.Where(f => t.Text.Contains(f, StringComparison.OrdinalIgnoreCase)).Select(f => $"{t.Where}: {t.Text}"))
            .ToList();

        Assert.True(ours.Count > requests.Count, "Expected the request spans and their children to be scanned.");
        Assert.Empty(leaks);
    }

    [Fact]
    public async Task The_service_meter_counts_requests_changes_and_test_outcomes_and_not_replays()
    {
        var tenant = await _host.NewTenantAsync();
        var idempotencyKey = Guid.NewGuid().ToString();
        var okUrl = _receiver.Url("/ok") + "?" + Guid.NewGuid().ToString("N");

        async Task<string> CreateAsync(string url, string? key)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, tenant.WebhooksPath) { Content = Http.Json(new { url }) };
            if (key is not null)
            {
                message.Headers.Add("Idempotency-Key", key);
            }

            using var response = await tenant.Http.SendAsync(message);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return tenant.WebhookPath((await response.BodyAsync()).GetProperty("id").GetString()!);
        }

        var ok = await CreateAsync(okUrl, idempotencyKey);
        Assert.Equal(ok, await CreateAsync(okUrl, idempotencyKey));
        var failing = await CreateAsync(_receiver.Url("/fail") + "?" + Guid.NewGuid().ToString("N"), null);
        using var read = await tenant.Http.GetAsync(ok);
        using var missing = await tenant.Http.GetAsync(tenant.WebhookPath(Guid.NewGuid().ToString()));
        using var rotated = await tenant.Http.PostAsync(ok + "/rotate-secret", null);
        using var succeeded = await tenant.Http.PostAsync(ok + "/test", null);
        using var failed = await tenant.Http.PostAsync(failing + "/test", null);
        using var deleted = await tenant.Http.DeleteAsync(failing);
        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NoContent],
            new[] { read, missing, rotated, succeeded, failed, deleted }.Select(r => r.StatusCode));
        Assert.Equal("FAILED", (await failed.BodyAsync()).GetProperty("status").GetString());

        // The counter is recorded as each response completes, which can be just after the client has it.
        var metrics = await FlushMetricsAsync(m => Sum(m, WebhookTelemetry.RequestsInstrument) >= 9);

        var expectedRequests = new Dictionary<(string, string), long>
        {
            [(ApiOperations.CreateWebhook, "2xx")] = 3,
            [(ApiOperations.GetWebhook, "2xx")] = 1,
            [(ApiOperations.GetWebhook, "4xx")] = 1,
            [(ApiOperations.RotateWebhookSecret, "2xx")] = 1,
            [(ApiOperations.TestWebhook, "2xx")] = 2,
            [(ApiOperations.DeleteWebhook, "2xx")] = 1,
        };
        Assert.Equal(expectedRequests, PointsOf(metrics, WebhookTelemetry.RequestsInstrument)
            .ToDictionary(p => (Tag(p, WebhookTelemetry.OperationAttribute), Tag(p, WebhookTelemetry.StatusClassAttribute)), p => p.GetSumLong()));
        Assert.Equal(expectedRequests, PointsOf(metrics, WebhookTelemetry.RequestDurationInstrument)
            .ToDictionary(p => (Tag(p, WebhookTelemetry.OperationAttribute), Tag(p, WebhookTelemetry.StatusClassAttribute)), p => p.GetHistogramCount()));
        Assert.Equal(
            new Dictionary<string, long> { ["created"] = 2, ["secret_rotated"] = 1, ["deleted"] = 1 },
            PointsOf(metrics, WebhookTelemetry.WebhookChangesInstrument).ToDictionary(p => Tag(p, WebhookTelemetry.ChangeAttribute), p => p.GetSumLong()));
        Assert.Equal(
            new Dictionary<string, long> { ["succeeded"] = 1, ["failed"] = 1 },
            PointsOf(metrics, WebhookTelemetry.TestDeliveriesInstrument).ToDictionary(p => Tag(p, WebhookTelemetry.OutcomeAttribute), p => p.GetSumLong()));
    }

    private async Task<Activity> RequestSpanAsync(string requestId)
    {
        // The server span ends after the response is sent, so it can arrive a moment after the client has the answer.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var span = _spans.Snapshot().SingleOrDefault(s => s.Source.Name == "Microsoft.AspNetCore"
                && Equals(s.GetTagItem(WebhookTelemetry.RequestIdAttribute), requestId));
            if (span is not null)
            {
                return span;
            }

            Assert.True(deadline.Elapsed < Deadline, $"No request span with {WebhookTelemetry.RequestIdAttribute} {requestId} within {Deadline}.");
            await Task.Delay(50);
        }
    }

    private async Task<List<MetricSnapshot>> FlushMetricsAsync(Func<List<MetricSnapshot>, bool> complete)
    {
        var provider = _host.Services.GetRequiredService<MeterProvider>();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            // Cumulative temporality: each flush exports every series from the start, so the last flush is the whole story.
            _metrics.Clear();
            Assert.True(provider.ForceFlush(5_000), "The meter provider did not flush.");
            var metrics = _metrics.Snapshot();
            if (complete(metrics))
            {
                return metrics;
            }

            Assert.True(deadline.Elapsed < Deadline, $"Metrics incomplete within {Deadline}: {string.Join(", ", metrics.Select(m => m.Name))}");
            await Task.Delay(50);
        }
    }

    private static IEnumerable<MetricPoint> PointsOf(List<MetricSnapshot> metrics, string name) =>
        metrics.Where(m => m.Name == name).SelectMany(m => m.MetricPoints);

    private static long Sum(List<MetricSnapshot> metrics, string name) => PointsOf(metrics, name).Sum(p => p.GetSumLong());

    private static string Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty;
            }
        }

        return string.Empty;
    }

    private static int? PortOf(Activity span) =>
        span.GetTagItem("server.port") is { } port && int.TryParse(Convert.ToString(port, CultureInfo.InvariantCulture), out var value) ? value : null;

    private static IEnumerable<string> TextsOf(Activity span)
    {
        yield return span.DisplayName;
        yield return span.OperationName;
        yield return span.StatusDescription ?? string.Empty;
        yield return span.TraceStateString ?? string.Empty;
        foreach (var text in TextsOf(span.TagObjects))
        {
            yield return text;
        }

        foreach (var baggage in span.Baggage)
        {
            yield return $"{baggage.Key}={baggage.Value}";
        }

        foreach (var spanEvent in span.Events)
        {
            yield return spanEvent.Name;
            foreach (var text in TextsOf(spanEvent.Tags))
            {
                yield return text;
            }
        }

        foreach (var link in span.Links)
        {
            foreach (var text in TextsOf(link.Tags ?? []))
            {
                yield return text;
            }
        }
    }

    private static IEnumerable<string> TextsOf(MetricSnapshot metric)
    {
        foreach (var point in metric.MetricPoints)
        {
            foreach (var tag in point.Tags)
            {
                yield return $"{tag.Key}={Render(tag.Value)}";
            }
        }
    }

    private static IEnumerable<string> TextsOf(IEnumerable<KeyValuePair<string, object?>> tags) =>
        tags.Select(tag => $"{tag.Key}={Render(tag.Value)}");

    private static string Render(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        IEnumerable items => string.Join(",", items.Cast<object?>().Select(Render)),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };

    /// <summary>Exporters add from whichever thread ends a span; a plain List would race.</summary>
    private sealed class LockedCollection<T> : ICollection<T>
    {
        private readonly List<T> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public void Add(T item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item)
        {
            lock (_items)
            {
                return _items.Contains(item);
            }
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            lock (_items)
            {
                _items.CopyTo(array, arrayIndex);
            }
        }

        public bool Remove(T item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public List<T> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
