using WebhookFunctions.Development;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// The standalone host as a separate process over the test Azurite, sharing the tests' local secret key.
/// Its delivery workers and sweep stay off unless a test turns them on (Delivery:RunWorkers=true): a
/// sweep over every test's applications would be load that no measurement here means to include.
/// </summary>
public static class HostProcess
{
    public static Task<StandaloneProcess> StartAsync(string connectionString, params string[] settings) =>
        StandaloneProcess.StartAsync(
            AppContext.BaseDirectory,
            [$"Storage:ConnectionString={connectionString}", $"LocalSecrets:Key={TestHost.LocalSecretsKey}", "Delivery:RunWorkers=false", "Webhooks:RequireVerification=false", .. TestHost.GenerousLimits, .. settings],
            CancellationToken.None);
}
