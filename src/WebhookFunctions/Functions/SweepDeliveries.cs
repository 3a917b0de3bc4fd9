using Microsoft.Azure.Functions.Worker;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Hosting;

namespace WebhookFunctions.Functions;

/// <summary>
/// Every minute, the sweep the standalone host runs on its own timer: re-drives deliveries whose queue
/// message was lost, and removes events and deliveries past retention.
/// </summary>
public sealed class SweepDeliveries(DeliverySweeper sweeper)
{
    [Function(BackgroundFunctions.SweepDeliveries)]
    public Task Run([TimerTrigger(BackgroundFunctions.SweepDeliveriesSchedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        sweeper.SweepAsync(cancellationToken);
}
