using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Verification;

namespace WebhookFunctions.Functions;

/// <summary>
/// Sends a pending webhook its ownership challenge. A message this service did not write throws, so the host
/// retries it and, after maxDequeueCount tries, moves it to the poison queue instead of dropping it.
/// </summary>
public sealed class SendVerificationChallenge(ChallengeProcessor processor)
{
    [Function(BackgroundFunctions.SendVerificationChallenge)]
    public Task Run([QueueTrigger(DeliveryQueues.VerificationsName, Connection = "AzureWebJobsStorage")] string message, CancellationToken cancellationToken) =>
        processor.HandleAsync(
            DeliveryQueues.Deserialize<VerificationMessage>(message) ?? throw new FormatException($"Not a {nameof(VerificationMessage)}."),
            cancellationToken);
}
