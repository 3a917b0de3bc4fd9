using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Jobs;

namespace WebhookFunctions.Functions;

/// <summary>
/// Runs one page of a recover job and queues the next. A message this service did not write throws, so
/// the host retries it and, after maxDequeueCount tries, moves it to the poison queue instead of dropping it.
/// </summary>
public sealed class RunRecoverJob(JobProcessor processor)
{
    [Function(BackgroundFunctions.RunRecoverJob)]
    public Task Run([QueueTrigger(DeliveryQueues.JobsName, Connection = "AzureWebJobsStorage")] string message, CancellationToken cancellationToken) =>
        processor.HandleAsync(
            DeliveryQueues.Deserialize<JobMessage>(message) ?? throw new FormatException($"Not a {nameof(JobMessage)}."),
            cancellationToken);
}
