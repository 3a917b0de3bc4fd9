using System.Diagnostics;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Serialization;
using WebhookFunctions.Core.Signing;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Delivery;

public sealed record WebhookTestResult(string Status, int? HttpStatus, long DurationMs, string? Error);

/// <summary>
/// Sends one signed <c>webhook.test</c> event: no redirects, 10 seconds, at most 64 KiB of the answer
/// read, and only to addresses the network policy allows, checked when connecting.
/// </summary>
public sealed class WebhookTester : IDisposable
{
    public const string Succeeded = "SUCCEEDED";
    public const string Failed = "FAILED";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const int MaxResponseBytes = 64 * 1024;

    private readonly HttpClient _client;
    private readonly ISecretStore _secrets;
    private readonly Tables _tables;
    private readonly TimeProvider _clock;

    public WebhookTester(IOptions<WebhookOptions> options, ISecretStore secrets, Tables tables, TimeProvider clock)
    {
        _secrets = secrets;
        _tables = tables;
        _clock = clock;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            MaxResponseHeadersLength = 64,
            ConnectCallback = new GuardedConnector(options.Value.AllowPrivateNetworks).ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
    }

    public async Task<WebhookTestResult> SendAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var secretName = SecretNames.ForWebhook(webhook.Id);
        var signingSecrets = new List<string>
        {
            await _secrets.GetAsync(secretName, webhook.SecretVersion, cancellationToken)
                ?? throw new DependencyUnavailableException("The webhook's signing secret could not be read from the secret store."),
        };
        if (webhook.PreviousSecretVersion is { } previous && webhook.PreviousSecretExpiresAt > now
            && await _secrets.GetAsync(secretName, previous, cancellationToken) is { } previousSecret)
        {
            signingSecrets.Add(previousSecret);
        }

        var messageId = "msg_" + Guid.CreateVersion7().ToString("N");
        var timestamp = now.ToUnixTimeSeconds();
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            type = "webhook.test",
            timestamp = Timestamps.Truncate(now),
            data = new { webhookId = webhook.Id, applicationId = webhook.ApplicationId },
        }, ApiJson.Options);

        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation(WebhookSigner.IdHeader, messageId);
        request.Headers.TryAddWithoutValidation(WebhookSigner.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(WebhookSigner.SignatureHeader, WebhookSigner.Sign(messageId, timestamp, body, signingSecrets));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("WebhookFunctions", "1.0"));

        var result = await DeliverAsync(request, cancellationToken);
        await RecordAsync(webhook, now, result.Status, cancellationToken);
        return result;
    }

    private async Task<WebhookTestResult> DeliverAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            await DrainAsync(response, timeout.Token);
            var status = (int)response.StatusCode;
            return status switch
            {
                >= 200 and < 300 => new WebhookTestResult(Succeeded, status, stopwatch.ElapsedMilliseconds, null),
                >= 300 and < 400 => new WebhookTestResult(Failed, status, stopwatch.ElapsedMilliseconds, $"The endpoint redirected ({status}); redirects are not followed."),
                _ => new WebhookTestResult(Failed, status, stopwatch.ElapsedMilliseconds, $"The endpoint answered {status}."),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookTestResult(Failed, null, stopwatch.ElapsedMilliseconds, $"The endpoint did not answer within {Timeout.TotalSeconds:0} seconds.");
        }
        catch (HttpRequestException exception) when (exception.InnerException is DestinationRefusedException)
        {
            return new WebhookTestResult(Failed, null, stopwatch.ElapsedMilliseconds, "The endpoint's address is not allowed: it is private, loopback, link-local or reserved.");
        }
        catch (HttpRequestException exception)
        {
            return new WebhookTestResult(Failed, null, stopwatch.ElapsedMilliseconds, $"The endpoint could not be reached ({exception.HttpRequestError}).");
        }
    }

    /// <summary>Reads at most 64 KiB of the answer, so a huge or endless body cannot hold the request.</summary>
    private static async Task DrainAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[8192];
        var total = 0;
        int read;
        while (total < MaxResponseBytes && (read = await stream.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, MaxResponseBytes - total)), cancellationToken)) > 0)
        {
            total += read;
        }
    }

    /// <summary>Merges only the two test fields, so a concurrent PATCH of other fields is never overwritten.</summary>
    private async Task RecordAsync(Webhook webhook, DateTimeOffset at, string status, CancellationToken cancellationToken)
    {
        var update = new TableEntity(webhook.MerchantId, WebhookEntity.RowKeyOf(webhook.ApplicationId, webhook.Id))
        {
            [WebhookEntity.LastTestAt] = Timestamps.Truncate(at),
            [WebhookEntity.LastTestStatus] = status,
        };
        try
        {
            await _tables.Webhooks.UpdateEntityAsync(update, ETag.All, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException exception) when (exception.Status == 404)
        {
            // Deleted while the test was in flight: nothing to record.
        }
    }

    public void Dispose() => _client.Dispose();
}
