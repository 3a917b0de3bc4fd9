namespace WebhookFunctions.Core.Hosting;

/// <summary>A function that no HTTP request starts: its name and its trigger (timer, queue).</summary>
public sealed record BackgroundFunction(string Name, string Trigger);

/// <summary>
/// The Functions app's non-HTTP functions. The standalone host runs the same work as hosted services;
/// a test holds the Functions app's declarations to this table, as it does the HTTP operations.
/// </summary>
public static class BackgroundFunctions
{
    public const string SweepOrphanSecrets = nameof(SweepOrphanSecrets);

    /// <summary>
    /// Hourly at minute 17, off the top of the hour when other jobs crowd the account. The same run
    /// purges expired idempotency records.
    /// </summary>
    public const string SweepOrphanSecretsSchedule = "0 17 * * * *";

    public const string TimerTrigger = nameof(TimerTrigger);
    public const string QueueTrigger = nameof(QueueTrigger);

    public static IReadOnlyList<BackgroundFunction> All { get; } =
    [
        new(SweepOrphanSecrets, TimerTrigger),
    ];
}
