namespace WebhookFunctions.Standalone.Development;

/// <summary>Conveniences of a local run (section <c>Development</c>); all off outside Development.</summary>
public sealed class DevelopmentOptions
{
    public const string Section = "Development";

    /// <summary>Start the pinned Azurite when nothing listens on <see cref="AzuriteTablePort"/>.</summary>
    public bool StartAzurite { get; set; }

    public int AzuriteTablePort { get; set; } = 10002;

    /// <summary>The queue service's port: delivery work moves through queues.</summary>
    public int AzuriteQueuePort { get; set; } = 10001;

    public int AzuriteBlobPort { get; set; } = 10000;

    /// <summary>Azurite's data folder, relative to the repository root.</summary>
    public string AzuriteDataDirectory { get; set; } = ".local/azurite";

    /// <summary>Create a demo merchant, application and key on first start and print a curl line.</summary>
    public bool SeedDemo { get; set; }

    /// <summary>The URL printed in the curl line.</summary>
    public string PublicBaseUrl { get; set; } = "http://localhost:7071";
}
