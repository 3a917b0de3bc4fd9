using WebhookFunctions.Core.Secrets;
using WebhookFunctions.Development;

namespace WebhookFunctions.Standalone.Development;

public static class DevelopmentServiceCollectionExtensions
{
    /// <summary>
    /// In Development, a relative <c>LocalSecrets:KeyFile</c> means the repository's <c>.local/</c>, not
    /// the content root's: <c>dotnet run</c>, a published folder and the admin CLI (whose content root is its
    /// output folder) then all use one key file, the one the README names. The admin CLI does the same.
    /// </summary>
    public static IConfiguration UseRepositoryKeyFile(this IConfiguration configuration, IHostEnvironment environment)
    {
        const string Key = $"{LocalSecretsOptions.Section}:{nameof(LocalSecretsOptions.KeyFile)}";
        if (environment.IsDevelopment()
            && RepositoryRoot.Resolve(configuration[Key] ?? new LocalSecretsOptions().KeyFile, environment.ContentRootPath, AppContext.BaseDirectory) is { } path)
        {
            configuration[Key] = path;
        }

        return configuration;
    }

    public static IServiceCollection AddDevelopmentAzurite(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<DevelopmentOptions>().BindConfiguration(DevelopmentOptions.Section);
        if (environment.IsDevelopment() && configuration.GetValue<bool>($"{DevelopmentOptions.Section}:{nameof(DevelopmentOptions.StartAzurite)}"))
        {
            // Also a singleton of its own, so Program can ask it whether the host must exit non-zero.
            services.AddSingleton<AzuriteHostedService>();
            services.AddHostedService(sp => sp.GetRequiredService<AzuriteHostedService>());
        }

        return services;
    }

    public static IServiceCollection AddDemoSeed(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        if (environment.IsDevelopment() && configuration.GetValue<bool>($"{DevelopmentOptions.Section}:{nameof(DevelopmentOptions.SeedDemo)}"))
        {
            services.AddHostedService<DemoSeeder>();
        }

        return services;
    }
}
