using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Health;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Secrets;
using WebhookFunctions.Api.Storage;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Api.Webhooks;

namespace WebhookFunctions.Api.Hosting;

public static class WebhookApiServiceCollectionExtensions
{
    /// <summary>
    /// Everything both hosts and the admin CLI need. Azure clients are singletons registered once, so
    /// Azurite and Azure differ only in configuration.
    /// </summary>
    public static IServiceCollection AddWebhookApi(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Maintenance.SweepOptions>().BindConfiguration(Maintenance.SweepOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section);
        services.AddOptions<KeyVaultOptions>().BindConfiguration(KeyVaultOptions.Section);
        services.AddOptions<LocalSecretsOptions>().BindConfiguration(LocalSecretsOptions.Section);

        RequireDevelopmentOnlySettings(configuration, environment);

        services.TryAddSingleton(TimeProvider.System);
        services.AddMemoryCache(options => options.SizeLimit = 100_000);
        services.AddSingleton<TokenCredential>(sp => new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = configuration["Azure:ManagedIdentityClientId"],
        }));
        services.AddSingleton(sp => CreateTableServiceClient(sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp));
        services.AddSingleton<Tables>();
        services.AddHostedService<TableInitializer>();

        AddSecretStore(services, configuration, environment);

        services.AddSingleton<ApiExecution>();
        services.AddSingleton<Idempotency.IdempotencyService>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<ApiGate>();
        services.AddSingleton<MerchantService>();
        services.AddSingleton<ApplicationService>();
        services.AddSingleton<EventCatalog>();
        services.AddSingleton<WebhookValidator>();
        services.AddSingleton<WebhookRepository>();
        services.AddSingleton<WebhookService>();
        services.AddSingleton<Delivery.WebhookTester>();
        services.AddSingleton<WebhookEndpoints>();
        services.AddSingleton<HealthEndpoints>();
        services.AddSingleton<Maintenance.OrphanSecretSweeper>();
        services.AddSingleton<OpenApi.OpenApiEndpoints>();
        services.AddSingleton<TenancyEndpoints>();
        return services;
    }

    private static void RequireDevelopmentOnlySettings(IConfiguration configuration, IHostEnvironment environment)
    {
        if (environment.IsDevelopment())
        {
            return;
        }

        foreach (var setting in new[] { "AllowInsecureUrls", "AllowPrivateNetworks" })
        {
            if (configuration.GetValue<bool>($"{WebhookOptions.Section}:{setting}"))
            {
                throw new InvalidOperationException(
                    $"{WebhookOptions.Section}:{setting} is allowed only in Development; this environment is '{environment.EnvironmentName}'.");
            }
        }
    }

    private static void AddSecretStore(IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var vault = configuration.GetSection(KeyVaultOptions.Section).Get<KeyVaultOptions>() ?? new KeyVaultOptions();
        if (vault.VaultUri is not null)
        {
            services.AddSingleton(sp => new SecretClient(vault.VaultUri, sp.GetRequiredService<TokenCredential>(), KeyVaultClientOptions(vault)));
            services.AddSingleton<ISecretStore, KeyVaultSecretStore>();
            return;
        }

        if (!environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                $"KeyVault:VaultUri is not set. Signing secrets need Azure Key Vault outside Development (environment '{environment.EnvironmentName}').");
        }

        services.AddSingleton(sp => LocalSecretKey.Load(sp.GetRequiredService<IOptions<LocalSecretsOptions>>().Value, environment.ContentRootPath));
        services.AddSingleton<ISecretStore, LocalSecretStore>();
    }

    public static SecretClientOptions KeyVaultClientOptions(KeyVaultOptions options)
    {
        var clientOptions = new SecretClientOptions();
        ConfigureRetry(clientOptions.Retry, options.NetworkTimeoutSeconds, options.MaxRetries);
        return clientOptions;
    }

    private static TableServiceClient CreateTableServiceClient(StorageOptions options, IServiceProvider services)
    {
        var clientOptions = new TableClientOptions();
        ConfigureRetry(clientOptions.Retry, options.NetworkTimeoutSeconds, options.MaxRetries);
        if (options.TableServiceUri is not null)
        {
            return new TableServiceClient(options.TableServiceUri, services.GetRequiredService<TokenCredential>(), clientOptions);
        }

        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new TableServiceClient(options.ConnectionString, clientOptions);
        }

        throw new InvalidOperationException("Set Storage:TableServiceUri (Azure, managed identity) or Storage:ConnectionString (Azurite).");
    }

    private static void ConfigureRetry(RetryOptions retry, int networkTimeoutSeconds, int maxRetries)
    {
        retry.Mode = RetryMode.Exponential;
        retry.MaxRetries = maxRetries;
        retry.Delay = TimeSpan.FromMilliseconds(200);
        retry.MaxDelay = TimeSpan.FromSeconds(2);
        retry.NetworkTimeout = TimeSpan.FromSeconds(networkTimeoutSeconds);
    }
}
