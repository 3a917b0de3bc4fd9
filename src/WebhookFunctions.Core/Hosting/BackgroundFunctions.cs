using WebhookFunctions.Core.Delivery;

namespace WebhookFunctions.Core.Hosting;

/// <summary>
/// A function that no HTTP request starts: its name, its trigger (timer, queue) and what starts it
/// (the timer's schedule or the queue's name).
/// </summary>
public sealed record BackgroundFunction(string Name, string Trigger, string Source);

/// <summary>
/// The Functions app's non-HTTP functions. The standalone host runs the same work as hosted services;
/// a test holds the Functions app's declarations to this table, as it does the HTTP operations.
/// </summary>
public static class BackgroundFunctions
{
    public const string SweepOrphanSecrets = nameof(SweepOrphanSecrets);
    public const string FanOutEvent = nameof(FanOutEvent);
    public const string AttemptDelivery = nameof(AttemptDelivery);
    public const string SweepDeliveries = nameof(SweepDeliveries);
    public const string RunRecoverJob = nameof(RunRecoverJob);
    public const string SendVerificationChallenge = nameof(SendVerificationChallenge);

    /// <summary>
    /// Hourly at minute 17, off the top of the hour when other jobs crowd the account. The same run
    /// purges expired idempotency records.
    /// </summary>
    public const string SweepOrphanSecretsSchedule = "0 17 * * * *";

    /// <summary>
    /// Every minute, as the standalone host's Delivery:SweepIntervalSeconds: a delivery whose queue message
    /// was lost is re-driven about a minute after it became overdue (Delivery:RedriveAfterSeconds).
    /// </summary>
    public const string SweepDeliveriesSchedule = "0 * * * * *";

    public const string TimerTrigger = nameof(TimerTrigger);
    public const string QueueTrigger = nameof(QueueTrigger);

    public static IReadOnlyList<BackgroundFunction> All { get; } =
    [
        new(SweepOrphanSecrets, TimerTrigger, SweepOrphanSecretsSchedule),
        new(FanOutEvent, QueueTrigger, DeliveryQueues.FanOutName),
        new(AttemptDelivery, QueueTrigger, DeliveryQueues.AttemptsName),
        new(SweepDeliveries, TimerTrigger, SweepDeliveriesSchedule),
        new(RunRecoverJob, QueueTrigger, DeliveryQueues.JobsName),
        new(SendVerificationChallenge, QueueTrigger, DeliveryQueues.VerificationsName),
    ];
}
