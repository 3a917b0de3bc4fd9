using Azure.Core;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Auth;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Limits;
using WebhookFunctions.Core.Maintenance;
using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Core.Storage;
using WebhookFunctions.Core.Tenancy;
using WebhookFunctions.Core.Verification;
using WebhookFunctions.Core.Webhooks;

namespace WebhookFunctions.Core.Hosting;

public static class CoreHostingExtensions
{
    private sealed class Marker;

    /// <summary>
    /// The domain and its dependencies: options, the Azure clients (registered once through
    /// Microsoft.Extensions.Azure, so Azurite and Azure differ only in configuration), the tables, the
    /// secret store and the use cases. Every host and the admin CLI start here; calling it twice is harmless.
    /// </summary>
    public static IHostApplicationBuilder AddWebhookCore(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return builder;
        }

        services.AddSingleton<Marker>();
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<QuotaOptions>().BindConfiguration(QuotaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<SweepOptions>().BindConfiguration(SweepOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section);
        services.AddOptions<KeyVaultOptions>().BindConfiguration(KeyVaultOptions.Section);
        services.AddOptions<LocalSecretsOptions>().BindConfiguration(LocalSecretsOptions.Section);

        RequireDevelopmentOnlySettings(builder.Configuration, builder.Environment);

        services.TryAddSingleton(TimeProvider.System);
        services.AddMemoryCache(options => options.SizeLimit = 100_000);
        AddAzureClients(builder);
        services.AddSingleton<Tables>();
        services.AddHostedService<TableInitializer>();
        AddSecretStore(builder);

        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<ApiKeyAuthenticator>();
        services.AddSingleton<ApiKeyService>();
        services.AddSingleton<MerchantService>();
        services.AddSingleton<ApplicationService>();
        services.AddSingleton<EventCatalog>();
        services.AddSingleton<WebhookValidator>();
        services.AddSingleton<WebhookRepository>();
        services.AddSingleton<WebhookService>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<DeliveryStore>();
        services.AddSingleton<WebhookTester>();
        services.AddSingleton<OrphanSecretSweeper>();
        services.AddSingleton<IdempotencyPurger>();
        services.AddWebhookVerification();
        return builder;
    }

    /// <summary>Short network timeouts and few retries, so a request's own deadline is never spent waiting on one call.</summary>
    public static void ConfigureRetry(RetryOptions retry, int networkTimeoutSeconds, int maxRetries)
    {
        retry.Mode = RetryMode.Exponential;
        retry.MaxRetries = maxRetries;
        retry.Delay = TimeSpan.FromMilliseconds(200);
        retry.MaxDelay = TimeSpan.FromSeconds(2);
        retry.NetworkTimeout = TimeSpan.FromSeconds(networkTimeoutSeconds);
    }

    public static SecretClientOptions KeyVaultClientOptions(KeyVaultOptions options)
    {
        var clientOptions = new SecretClientOptions();
        ConfigureRetry(clientOptions.Retry, options.NetworkTimeoutSeconds, options.MaxRetries);
        return clientOptions;
    }

    private static void AddAzureClients(IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        var vault = configuration.GetSection(KeyVaultOptions.Section).Get<KeyVaultOptions>() ?? new KeyVaultOptions();

        // One credential for every Azure client: the app's managed identity in Azure, the developer's sign-in elsewhere.
        builder.Services.TryAddSingleton<TokenCredential>(_ => new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = configuration["Azure:ManagedIdentityClientId"],
        }));

        builder.Services.AddAzureClients(clients =>
        {
            clients.UseCredential(sp => sp.GetRequiredService<TokenCredential>());
            clients.ConfigureDefaults(options => ConfigureRetry(options.Retry, storage.NetworkTimeoutSeconds, storage.MaxRetries));

            if (storage.TableServiceUri is not null)
            {
                clients.AddTableServiceClient(storage.TableServiceUri);
                clients.AddQueueServiceClient(storage.QueueServiceUri ?? Sibling(storage.TableServiceUri, "queue"))
                    .ConfigureOptions(o => o.MessageEncoding = QueueMessageEncoding.Base64);
                clients.AddBlobServiceClient(storage.BlobServiceUri ?? Sibling(storage.TableServiceUri, "blob"));
            }
            else if (!string.IsNullOrWhiteSpace(storage.ConnectionString))
            {
                clients.AddTableServiceClient(storage.ConnectionString);
                clients.AddQueueServiceClient(storage.ConnectionString)
                    .ConfigureOptions(o => o.MessageEncoding = QueueMessageEncoding.Base64);
                clients.AddBlobServiceClient(storage.ConnectionString);
            }
            else
            {
                throw new InvalidOperationException("Set Storage:TableServiceUri (Azure, managed identity) or Storage:ConnectionString (Azurite).");
            }

            if (vault.VaultUri is not null)
            {
                clients.AddSecretClient(vault.VaultUri)
                    .ConfigureOptions(o => ConfigureRetry(o.Retry, vault.NetworkTimeoutSeconds, vault.MaxRetries));
            }
        });
    }

    /// <summary>An account's other endpoint: https://account.table.core.windows.net → https://account.queue.core.windows.net.</summary>
    private static Uri Sibling(Uri tableServiceUri, string service)
    {
        var host = tableServiceUri.Host;
        var dot = host.IndexOf(".table.", StringComparison.OrdinalIgnoreCase);
        if (dot < 0)
        {
            throw new InvalidOperationException(
                $"Set Storage:{(service == "queue" ? "QueueServiceUri" : "BlobServiceUri")}: it cannot be derived from {tableServiceUri}.");
        }

        return new UriBuilder(tableServiceUri) { Host = host[..dot] + "." + service + "." + host[(dot + ".table.".Length)..] }.Uri;
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

    private static void AddSecretStore(IHostApplicationBuilder builder)
    {
        var vault = builder.Configuration.GetSection(KeyVaultOptions.Section).Get<KeyVaultOptions>() ?? new KeyVaultOptions();
        if (vault.VaultUri is not null)
        {
            builder.Services.AddSingleton<ISecretStore, KeyVaultSecretStore>();
            return;
        }

        if (!builder.Environment.IsDevelopment())
        {
            throw new InvalidOperationException(
                $"KeyVault:VaultUri is not set. Signing secrets need Azure Key Vault outside Development (environment '{builder.Environment.EnvironmentName}').");
        }

        var contentRoot = builder.Environment.ContentRootPath;
        builder.Services.AddSingleton(sp => LocalSecretKey.Load(
            sp.GetRequiredService<IOptions<LocalSecretsOptions>>().Value, contentRoot, sp.GetRequiredService<ILoggerFactory>().CreateLogger<LocalSecretKey>()));
        builder.Services.AddSingleton<ISecretStore, LocalSecretStore>();
    }
}
