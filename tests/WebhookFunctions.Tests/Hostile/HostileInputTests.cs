using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using WebhookFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebhookFunctions.Tests.Hostile;

/// <summary>
/// Thousands of hostile requests against a host process: no 5xx, the envelope on every 4xx the
/// application answers, and the process's memory back within 50 MB afterwards.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed class HostileInputTests(ApiFixture fixture, ITestOutputHelper output)
{
    private const int Clients = 16;
    private const long MemoryBudgetBytes = 50L * 1024 * 1024;

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Thousands_of_hostile_requests_get_no_5xx_an_envelope_on_every_4xx_and_leave_memory_where_it_was()
    {
        var tenant = await fixture.Host.NewTenantAsync();
        var webhook = await tenant.CreateWebhookAsync(new { url = "https://corpus.invalid/hook" });
        var webhookId = webhook.GetProperty("id").GetString()!;
        var eventId = await PublishWithDeliveryAsync(tenant, webhookId);

        // The process under attack runs no delivery workers: what is measured is what requests leave behind.
        await using var host = await HostProcess.StartAsync(fixture.ConnectionString, "Webhooks:MaxPerApplication=1000", "Delivery:RunWorkers=false");
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = host.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };

        // Three passes warm the process up (JIT, pools, caches, and a heap sized for the quarter-megabyte
        // publish and recover bodies, which takes more than one pass to settle: with two, a loaded CI run
        // measured +58 MB where a quiet one measured +26 MB); memory is measured from there.
        for (var seed = -1; seed < 2; seed++)
        {
            await SendAllAsync(client, tenant, HostileCorpus.For(tenant.ApplicationId, webhookId, eventId, seed));
        }

        await Task.Delay(1000);
        var before = host.WorkingSetBytes();

        var corpus = Enumerable.Range(2, 3).SelectMany(seed => HostileCorpus.For(tenant.ApplicationId, webhookId, eventId, seed)).ToList();
        var outcomes = await SendAllAsync(client, tenant, corpus);
        var framing = await SendFramingAttacksAsync(host.BaseAddress, tenant.ApiKey);
        await Task.Delay(1000);
        var after = host.WorkingSetBytes();

        var summary = outcomes.Concat(framing).GroupBy(o => o.Status / 100).OrderBy(g => g.Key).Select(g => $"{g.Key}xx: {g.Count()}");
        output.WriteLine($"{outcomes.Count} corpus requests + {framing.Count} framing attacks; {string.Join(", ", summary)}");
        output.WriteLine($"working set {before / 1048576.0:F1} MB before, {after / 1048576.0:F1} MB after ({(after - before) / 1048576.0:+0.0;-0.0} MB)");

        Assert.True(outcomes.Count >= 5000, $"only {outcomes.Count} requests");
        Assert.Empty(outcomes.Concat(framing).Where(o => o.Status >= 500).Select(o => o.Describe()));
        var application = outcomes.Where(o => !o.Category.StartsWith("framing", StringComparison.Ordinal)).ToList();
        var server = outcomes.Where(o => o.Category.StartsWith("framing", StringComparison.Ordinal)).Concat(framing).ToList();
        output.WriteLine($"{server.Count(o => o.BodyLength == 0)} refused by the HTTP server itself with an empty 4xx, before the application");
        Assert.Empty(application.Where(o => o.Status >= 400 && !o.HasEnvelope).Select(o => o.Describe()));
        Assert.Empty(server.Where(o => o.Status == 0 || (o.Status >= 400 && o.BodyLength > 0 && !o.HasEnvelope)).Select(o => o.Describe()));
        Assert.Empty(server.Where(o => o.Status < 400 && !o.Request.StartsWith("crlf", StringComparison.Ordinal)).Select(o => o.Describe()));
        Assert.Empty(framing.Where(o => o.ReflectsInjection).Select(o => o.Describe()));
        Assert.True(after - before < MemoryBudgetBytes, $"working set grew by {(after - before) / 1048576.0:F1} MB");
    }

    /// <summary>An event with a delivery to the corpus webhook, so the delivery routes have a real one to be asked about.</summary>
    private async Task<string> PublishWithDeliveryAsync(Tenant tenant, string webhookId)
    {
        await using var deliverer = await fixture.StartDeliveryHostAsync();
        var through = tenant with { Http = deliverer.Client(tenant.ApiKey) };
        using var published = await through.Http.PostAsync(
            $"/api/v1/applications/{tenant.ApplicationId}/events", Http.Json("""{"eventType":"session.completed","payload":{"corpus":true}}"""));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, published.StatusCode);
        var eventId = (await published.BodyAsync()).GetProperty("id").GetString()!;
        await Eventually.Async(async () =>
        {
            using var response = await through.Http.GetAsync($"/api/v1/applications/{tenant.ApplicationId}/events/{eventId}");
            return (await response.BodyAsync()).GetProperty("deliveries").EnumerateArray().Any(d => d.GetProperty("webhookId").GetString() == webhookId);
        }, TimeSpan.FromSeconds(30), "the corpus event's delivery exists");
        through.Http.Dispose();
        return eventId;
    }

    private static async Task<List<Outcome>> SendAllAsync(HttpClient client, Tenant tenant, List<HostileRequest> corpus)
    {
        var outcomes = new ConcurrentBag<Outcome>();
        await Parallel.ForEachAsync(corpus, new ParallelOptions { MaxDegreeOfParallelism = Clients }, async (request, cancellationToken) =>
        {
            using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path);
            if (request.Body is not null)
            {
                message.Content = new ByteArrayContent(request.Body);
                message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);

                // As a careful client sends a large body: the server may refuse it by its length alone and
                // close the connection rather than read it, which would otherwise break the send.
                message.Headers.ExpectContinue = request.Body.Length > 64 * 1024;
            }

            if (!request.Headers.Any(h => h.Name == "Authorization"))
            {
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
            }

            foreach (var (name, value) in request.Headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }

            HttpResponseMessage response;
            try
            {
                response = await client.SendAsync(message, cancellationToken);
            }
            catch (HttpRequestException exception)
            {
                throw new InvalidOperationException($"[{request.Category}] {request.Method} {Shorten(request.Path)} ({request.Body?.Length ?? 0} bytes) failed", exception);
            }

            using var _ = response;
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var requestId = response.Headers.TryGetValues("x-request-id", out var ids) ? ids.Single() : null;
            outcomes.Add(Outcome.Of(request.Category, $"{request.Method} {Shorten(request.Path)}", (int)response.StatusCode, body, requestId));
        });
        return [.. outcomes];
    }

    /// <summary>
    /// Requests HttpClient will not send: CRLF and bare CR in header values, bytes that are not
    /// ASCII, oversized and too many headers, broken request lines and lengths. Most never reach
    /// the application: the server's HTTP parser refuses them with an empty 4xx.
    /// </summary>
    private static async Task<List<Outcome>> SendFramingAttacksAsync(Uri host, string apiKey)
    {
        var path = "/api/v1/applications";
        var attacks = new (string Name, byte[] Bytes)[]
        {
            ("crlf-injection", Ascii($"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {apiKey}\r\nX-Test: a\r\nX-Injected: b\r\nConnection: close\r\n\r\n")),
            ("crlf-request-id", Ascii($"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {apiKey}\r\nx-request-id: a\r\nSet-Cookie: evil=1\r\nConnection: close\r\n\r\n")),
            ("bare-cr", Ascii($"GET {path} HTTP/1.1\r\nHost: x\r\nX-Test: a\rb\r\nConnection: close\r\n\r\n")),
            ("bare-lf", Ascii($"GET {path} HTTP/1.1\nHost: x\nX-Test: a\nConnection: close\n\n")),
            ("latin1-header", [.. Ascii($"GET {path} HTTP/1.1\r\nHost: x\r\nx-request-id: "), 0xe9, 0xff, .. Ascii("\r\nConnection: close\r\n\r\n")]),
            ("bad-utf8-header", [.. Ascii($"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "), 0xc0, 0xae, 0xed, 0xa0, 0x80, .. Ascii("\r\nConnection: close\r\n\r\n")]),
            ("huge-header", Ascii($"GET {path} HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 40_000)}\r\nConnection: close\r\n\r\n")),
            ("many-headers", Ascii($"GET {path} HTTP/1.1\r\nHost: x\r\n{string.Concat(Enumerable.Range(0, 200).Select(i => $"X-H{i}: v\r\n"))}Connection: close\r\n\r\n")),
            ("no-colon", Ascii($"GET {path} HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n\r\n")),
            ("garbage-request-line", Ascii("GARBAGE\r\n\r\n")),
            ("non-ascii-target", [.. Ascii("GET /api/v1/applications/"), 0xe2, 0x80, 0xae, .. Ascii(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]),
            ("negative-length", Ascii($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n")),
            ("text-length", Ascii($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n")),
            ("two-lengths", Ascii($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{{}}")),
            ("bad-chunk", Ascii($"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n")),
            ("huge-chunk", Ascii($"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {apiKey}\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{new string('f', 20)}\r\n{{}}\r\n0\r\n\r\n")),
            ("no-host", Ascii($"GET {path} HTTP/1.1\r\nConnection: close\r\n\r\n")),
            ("http-0.9", Ascii($"GET {path}\r\n\r\n")),
        };

        var outcomes = new List<Outcome>();
        for (var round = 0; round < 5; round++)
        {
            foreach (var (name, bytes) in attacks)
            {
                outcomes.Add(await SendRawAsync(host, name, bytes));
            }
        }

        return outcomes;
    }

    private static async Task<Outcome> SendRawAsync(Uri host, string name, byte[] request)
    {
        using var tcp = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tcp.ConnectAsync(host.Host, host.Port, timeout.Token);
        var stream = tcp.GetStream();
        try
        {
            await stream.WriteAsync(request, timeout.Token);
        }
        catch (IOException)
        {
            // The server may close before reading everything; its answer is still there to read.
        }

        using var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer, timeout.Token);
        }
        catch (IOException)
        {
        }

        var text = Encoding.Latin1.GetString(buffer.ToArray());
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var statusLine = text.Split("\r\n", 2)[0];
        var status = statusLine.Split(' ') is [_, var code, ..] && int.TryParse(code, out var parsed) ? parsed : 0;
        var headers = text[..Math.Max(headerEnd, 0)].Split("\r\n");
        var body = headerEnd < 0 ? [] : buffer.ToArray()[(headerEnd + 4)..];
        if (headers.Any(h => h.Equals("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)))
        {
            body = Dechunk(body);
        }

        var requestId = headers.FirstOrDefault(l => l.StartsWith("x-request-id:", StringComparison.OrdinalIgnoreCase))?.Split(':', 2)[1].Trim();
        var reflects = headers.Any(h => h.StartsWith("X-Injected", StringComparison.OrdinalIgnoreCase) || h.Contains("evil=1", StringComparison.Ordinal));
        return Outcome.Of("framing", name, status, body, requestId) with { ReflectsInjection = reflects };
    }

    private static byte[] Dechunk(byte[] chunked)
    {
        using var output = new MemoryStream();
        var position = 0;
        while (position < chunked.Length)
        {
            var lineEnd = chunked.AsSpan(position).IndexOf("\r\n"u8);
            if (lineEnd < 0 || !int.TryParse(Encoding.ASCII.GetString(chunked, position, lineEnd), System.Globalization.NumberStyles.HexNumber, null, out var size) || size == 0)
            {
                break;
            }

            position += lineEnd + 2;
            output.Write(chunked, position, Math.Min(size, chunked.Length - position));
            position += size + 2;
        }

        return output.ToArray();
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    private static string Shorten(string text) => text.Length > 120 ? text[..120] + "…" : text;

    private sealed record Outcome(string Category, string Request, int Status, int BodyLength, bool HasEnvelope, string Preview)
    {
        public bool ReflectsInjection { get; init; }

        public static Outcome Of(string category, string request, int status, byte[] body, string? requestId)
        {
            var envelope = false;
            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                envelope = root.ValueKind == JsonValueKind.Object
                    && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String
                    && root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                    && root.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number && code.GetInt32() == status
                    && root.TryGetProperty("requestId", out var id) && id.GetString() == requestId
                    && (!root.TryGetProperty("details", out var details) || details.ValueKind == JsonValueKind.Array);
            }
            catch (JsonException)
            {
            }

            return new Outcome(category, request, status, body.Length, envelope, Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200))));
        }

        public string Describe() => $"[{Category}] {Request} -> {Status}: {Preview}";
    }
}
