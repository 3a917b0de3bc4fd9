using System.Text.Json;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Jobs;
using WebhookFunctions.Core.Serialization;

namespace WebhookFunctions.Core.Delivery;

/// <summary>Fan one event out to its webhooks. Ids only: the payload stays in storage.</summary>
public sealed record FanOutMessage(string MerchantId, string ApplicationId, string EventId);

/// <summary>
/// Make one attempt of one delivery. <see cref="Attempt"/> fences scheduled work: a message whose
/// number is not the delivery's next scheduled attempt is stale and dropped. A manual resend carries
/// its own <see cref="ManualId"/> instead. <see cref="InLine"/>: the webhook's rate limit held this
/// attempt back, and it has waited its turn (see <c>DeliveryThrottle</c>).
/// </summary>
public sealed record AttemptMessage(
    string MerchantId, string ApplicationId, string WebhookId, string EventId, int Attempt, string? ManualId = null, bool InLine = false);

/// <summary>The work queues. Messages are Base64-encoded, which is what the Functions queue trigger expects.</summary>
public sealed class DeliveryQueues(QueueServiceClient service, IOptions<DeliveryOptions> options, QueueSignals signals)
{
    public const string DefaultPrefix = "webhook";

    /// <summary>The default queues, which the Functions app's queue triggers name.</summary>
    public const string FanOutName = DefaultPrefix + "-fanout";
    public const string AttemptsName = DefaultPrefix + "-attempts";
    public const string JobsName = DefaultPrefix + "-jobs";
    public const string VerificationsName = DefaultPrefix + "-verifications";

    /// <summary>A queue message can be hidden for at most 7 days; longer waits are re-enqueued when they come up.</summary>
    public static readonly TimeSpan MaxVisibilityDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);

    public QueueClient FanOut { get; } = service.GetQueueClient(options.Value.QueuePrefix + "-fanout");

    public QueueClient Attempts { get; } = service.GetQueueClient(options.Value.QueuePrefix + "-attempts");

    /// <summary>Pages of recover jobs: one message runs one page and queues the next.</summary>
    public QueueClient Jobs { get; } = service.GetQueueClient(options.Value.QueuePrefix + "-jobs");
    public QueueClient Verifications { get; } = service.GetQueueClient(options.Value.QueuePrefix + "-verifications");

    public QueueClient PoisonOf(QueueClient queue) => service.GetQueueClient(queue.Name + "-poison");

    public async Task CreateAllAsync(CancellationToken cancellationToken)
    {
        foreach (var queue in new[] { FanOut, Attempts, Jobs, Verifications })
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            await PoisonOf(queue).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }
    }

    public async Task SendAsync(FanOutMessage message, CancellationToken cancellationToken)
    {
        await FanOut.SendMessageAsync(Serialize(message), cancellationToken);
        signals.Notify(FanOut.Name);
    }

    public async Task SendAsync(JobMessage message, CancellationToken cancellationToken)
    {
        await Jobs.SendMessageAsync(Serialize(message), cancellationToken);
        signals.Notify(Jobs.Name);
    }

    public async Task SendAsync(AttemptMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        var visibility = delay <= TimeSpan.Zero ? (TimeSpan?)null : delay > MaxVisibilityDelay ? MaxVisibilityDelay : delay;
        await Attempts.SendMessageAsync(Serialize(message), visibility, cancellationToken: cancellationToken);
        if (visibility is null)
        {
            signals.Notify(Attempts.Name);
        }
    }

    public static string Serialize<T>(T message) => JsonSerializer.Serialize(message, ApiJson.Options);

    public static T? Deserialize<T>(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(text, ApiJson.Options);
        }
        catch (JsonException)
        {
            return default;
        }
    }
}
