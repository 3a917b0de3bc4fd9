using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Signing;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

/// <summary>What one POST to a webhook came to.</summary>
public sealed record SendResult(int? HttpStatus, long DurationMs, string? Error, string? ResponseBody, TimeSpan? RetryAfter)
{
    public bool Succeeded => HttpStatus is >= 200 and < 300;
}

/// <summary>
/// Posts one signed Standard Webhooks message. The one HTTP client every outbound call to a merchant
/// uses: no redirects followed, no proxy, no cookies, at most 64 KiB of the answer read, and only to
/// addresses the network policy allows, checked when connecting so DNS rebinding cannot get round it.
/// It never retries by itself: a hidden retry would be an unrecorded duplicate delivery.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public const int MaxResponseBytes = 64 * 1024;
    public const int RecordedResponseBytes = 4 * 1024;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromHours(24);

    private readonly HttpClient _client;

    public WebhookSender(IOptions<WebhookOptions> options)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            MaxResponseHeadersLength = 64,
            ConnectCallback = new GuardedConnector(options.Value.AllowPrivateNetworks).ConnectAsync,
            // Our trace ids are nobody else's business: no traceparent goes to a merchant's endpoint.
            ActivityHeadersPropagator = System.Diagnostics.DistributedContextPropagator.CreateNoOutputPropagator(),
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<SendResult> SendAsync(
        string url, string messageId, DateTimeOffset now, ReadOnlyMemory<byte> body, IReadOnlyList<string> secrets, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var timestamp = now.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSigner.IdHeader, messageId);
        request.Headers.TryAddWithoutValidation(WebhookSigner.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(WebhookSigner.SignatureHeader, WebhookSigner.Sign(messageId, timestamp, body.Span, secrets));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("WebhookFunctions", "1.0"));

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var text = await ReadAsync(response, deadline.Token);
            var status = (int)response.StatusCode;
            var error = status switch
            {
                >= 200 and < 300 => null,
                >= 300 and < 400 => $"The endpoint redirected ({status}); redirects are not followed.",
                _ => $"The endpoint answered {status}.",
            };
            return new SendResult(status, stopwatch.ElapsedMilliseconds, error, text, RetryAfterOf(response, now));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendResult(null, stopwatch.ElapsedMilliseconds, $"The endpoint did not answer within {timeout.TotalSeconds:0.###} seconds.", null, null);
        }
        catch (HttpRequestException exception) when (exception.InnerException is DestinationRefusedException)
        {
            return new SendResult(null, stopwatch.ElapsedMilliseconds, "The endpoint's address is not allowed: it is private, loopback, link-local or reserved.", null, null);
        }
        catch (HttpRequestException exception)
        {
            return new SendResult(null, stopwatch.ElapsedMilliseconds, $"The endpoint could not be reached ({exception.HttpRequestError}).", null, null);
        }
    }

    /// <summary>Reads at most 64 KiB of the answer, so a huge or endless body cannot hold a worker, and keeps the first 4 KiB as text.</summary>
    private static async Task<string> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var kept = new byte[RecordedResponseBytes];
        var buffer = new byte[8192];
        int total = 0, keptLength = 0, read;
        while (total < MaxResponseBytes && (read = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, MaxResponseBytes - total)), cancellationToken)) > 0)
        {
            var take = Math.Min(read, kept.Length - keptLength);
            buffer.AsSpan(0, take).CopyTo(kept.AsSpan(keptLength));
            keptLength += take;
            total += read;
        }

        return Encoding.UTF8.GetString(kept, 0, keptLength);
    }

    /// <summary>Retry-After on a 429 or 503, in seconds or as an HTTP date, capped at 24 hours.</summary>
    private static TimeSpan? RetryAfterOf(HttpResponseMessage response, DateTimeOffset now)
    {
        if ((int)response.StatusCode is not (429 or 503) || response.Headers.RetryAfter is not { } header)
        {
            return null;
        }

        var wait = header.Delta ?? (header.Date is { } date ? date - now : null);
        return wait is { } w && w > TimeSpan.Zero ? (w > MaxRetryAfter ? MaxRetryAfter : w) : null;
    }

    public void Dispose() => _client.Dispose();
}
