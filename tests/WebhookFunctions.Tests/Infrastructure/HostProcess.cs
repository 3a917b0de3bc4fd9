using WebhookFunctions.Development;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>The standalone host as a separate process over the test Azurite, sharing the tests' local secret key.</summary>
public static class HostProcess
{
    public static Task<StandaloneProcess> StartAsync(string connectionString, params string[] settings) =>
        StandaloneProcess.StartAsync(
            AppContext.BaseDirectory,
            [$"Storage:ConnectionString={connectionString}", $"LocalSecrets:Key={TestHost.LocalSecretsKey}", .. TestHost.GenerousLimits, .. settings],
            CancellationToken.None);
}
