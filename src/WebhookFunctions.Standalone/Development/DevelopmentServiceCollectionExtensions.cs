namespace WebhookFunctions.Standalone.Development;

public static class DevelopmentServiceCollectionExtensions
{
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
