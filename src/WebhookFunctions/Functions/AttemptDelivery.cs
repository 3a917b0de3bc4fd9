using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Hosting;

namespace WebhookFunctions.Functions;

/// <summary>
/// Makes one attempt of one delivery. A message this service did not write throws, so the host
/// retries it and, after maxDequeueCount tries, moves it to the poison queue instead of dropping it.
/// </summary>
public sealed class AttemptDelivery(AttemptProcessor processor)
{
    [Function(BackgroundFunctions.AttemptDelivery)]
    public Task Run([QueueTrigger(DeliveryQueues.AttemptsName, Connection = "AzureWebJobsStorage")] string message, CancellationToken cancellationToken) =>
        processor.HandleAsync(
            DeliveryQueues.Deserialize<AttemptMessage>(message) ?? throw new FormatException($"Not an {nameof(AttemptMessage)}."),
            cancellationToken);
}
