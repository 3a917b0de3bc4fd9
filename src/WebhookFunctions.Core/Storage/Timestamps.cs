namespace WebhookFunctions.Core.Storage;

public static class Timestamps
{
    /// <summary>Millisecond precision, so what is stored is exactly what the API shows.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
}
