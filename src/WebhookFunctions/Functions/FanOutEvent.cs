using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Hosting;

namespace WebhookFunctions.Functions;

/// <summary>
/// Turns one published event into its deliveries. A message this service did not write throws, so the
/// host retries it and, after maxDequeueCount tries, moves it to the poison queue instead of dropping it.
/// </summary>
public sealed class FanOutEvent(FanOutProcessor processor)
{
    [Function(BackgroundFunctions.FanOutEvent)]
    public Task Run([QueueTrigger(DeliveryQueues.FanOutName, Connection = "AzureWebJobsStorage")] string message, CancellationToken cancellationToken) =>
        processor.HandleAsync(
            DeliveryQueues.Deserialize<FanOutMessage>(message) ?? throw new FormatException($"Not a {nameof(FanOutMessage)}."),
            cancellationToken);
}
