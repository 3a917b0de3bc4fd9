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
public sealed class WebhookTester
{
    public const string Succeeded = "SUCCEEDED";
    public const string Failed = "FAILED";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly WebhookSender _sender;
    private readonly ISecretStore _secrets;
    private readonly Tables _tables;
    private readonly TimeProvider _clock;

    public WebhookTester(WebhookSender sender, ISecretStore secrets, Tables tables, TimeProvider clock)
    {
        _sender = sender;
        _secrets = secrets;
        _tables = tables;
        _clock = clock;
    }

    public async Task<WebhookTestResult> SendAsync(Webhook webhook, CancellationToken cancellationToken)
    {
        var now = _clock.GetUtcNow();
        var signingSecrets = await SigningSecrets.OfAsync(_secrets, webhook, now, cancellationToken);
        var messageId = "msg_" + Guid.CreateVersion7().ToString("N");
        var body = JsonSerializer.SerializeToUtf8Bytes(new
        {
            type = "webhook.test",
            timestamp = Timestamps.Truncate(now),
            data = new { webhookId = webhook.Id, applicationId = webhook.ApplicationId },
        }, ApiJson.Options);

        var sent = await _sender.SendAsync(webhook.Url, messageId, now, body, signingSecrets, Timeout, cancellationToken);
        var result = new WebhookTestResult(sent.Succeeded ? Succeeded : Failed, sent.HttpStatus, sent.DurationMs, sent.Error);
        await RecordAsync(webhook, now, result.Status, cancellationToken);
        return result;
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

}
