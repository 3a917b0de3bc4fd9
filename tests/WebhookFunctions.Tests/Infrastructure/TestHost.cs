using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Standalone;

namespace WebhookFunctions.Tests.Infrastructure;

/// <summary>
/// The standalone host, started in this process on a free loopback port and driven over real HTTP.
/// Its logs are captured, its secret store calls counted (around the real store) and its clock
/// can be moved forward.
/// </summary>
public sealed class TestHost : IAsyncDisposable
{
    private TestHost(WebApplication app, Uri baseAddress, LogCapture logs, CountingSecretStore secrets, AdjustableClock clock)
    {
        App = app;
        BaseAddress = baseAddress;
        Logs = logs;
        Secrets = secrets;
        Clock = clock;
    }

    public WebApplication App { get; }

    public Uri BaseAddress { get; }

    public LogCapture Logs { get; }

    public CountingSecretStore Secrets { get; }

    public AdjustableClock Clock { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>
    /// Rate limits far above anything a test sends, so that tests sharing a host (all from 127.0.0.1,
    /// many failing auth on purpose) are never slowed or flaked by them. Tests of the limits pass their
    /// own low values, which come later on the command line and win.
    /// </summary>
    public static readonly string[] GenerousLimits =
    [
        "Limits:RequestsPerSecondPerKey=1000000",
        "Limits:BurstPerKey=1000000",
        "Limits:CostlyPerMinutePerKey=1000000",
        "Limits:UnauthenticatedPerSecondPerIp=1000000",
        "Limits:PublishPerSecondPerMerchant=1000000",
    ];

    /// <summary>One local secret-store key for every host of a run, so hosts can share webhooks.</summary>
    public static readonly string LocalSecretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static async Task<TestHost> StartAsync(string connectionString, Action<IServiceCollection>? services, params string[] settings)
    {
        var args = new List<string>
        {
            "--environment=Development",
            "--urls=http://127.0.0.1:0",
            $"--Storage:ConnectionString={connectionString}",
            $"--LocalSecrets:Key={LocalSecretsKey}",
            "--Development:StartAzurite=false",
            "--Development:SeedDemo=false",
            "--Webhooks:AllowInsecureUrls=false",
            "--Webhooks:AllowPrivateNetworks=false",
            // Hosts share one Azurite: only those a test starts for delivery run workers, each on queues of its own.
            "--Delivery:RunWorkers=false",
            // Existing tests mean delivery to a webhook as created; verification tests turn it on.
            "--Webhooks:RequireVerification=false",
        };
        args.AddRange(GenerousLimits.Select(s => "--" + s));
        args.AddRange(settings.Select(s => "--" + s));

        var logs = new LogCapture();
        var clock = new AdjustableClock();
        CountingSecretStore? counting = null;
        var app = StandaloneApp.Build([.. args], builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            builder.Logging.AddProvider(logs);
            builder.Services.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock));

            var real = builder.Services.Single(d => d.ServiceType == typeof(ISecretStore));
            builder.Services.Remove(real);
            builder.Services.Add(new ServiceDescriptor(real.ImplementationType!, real.ImplementationType!, ServiceLifetime.Singleton));
            builder.Services.AddSingleton<ISecretStore>(sp =>
                counting = new CountingSecretStore((ISecretStore)sp.GetRequiredService(real.ImplementationType!)));
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _ = app.Services.GetRequiredService<ISecretStore>();
        return new TestHost(app, new Uri(address), logs, counting!, clock);
    }

    public HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>A fresh merchant with one application and one key, made through the same services the admin CLI uses.</summary>
    public async Task<Tenant> NewTenantAsync(string name = "Test merchant")
    {
        var merchant = await Services.GetRequiredService<MerchantService>().CreateAsync(name, CancellationToken.None);
        var application = await Services.GetRequiredService<ApplicationService>().CreateAsync(merchant.Id, "App", CancellationToken.None);
        var key = await Services.GetRequiredService<ApiKeyService>().CreateAsync(merchant.Id, "Key", null, CancellationToken.None);
        return new Tenant(merchant.Id, application.Id, key.Key, key.Id, Client(key.Key));
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

public sealed record Tenant(string MerchantId, string ApplicationId, string ApiKey, string KeyId, HttpClient Http)
{
    public string WebhooksPath => $"/api/v1/applications/{ApplicationId}/webhooks";

    public string WebhookPath(string webhookId) => $"{WebhooksPath}/{webhookId}";
}
