namespace WebhookFunctions.Standalone.Development;

public static class DevelopmentServiceCollectionExtensions
{
    public static IServiceCollection AddDevelopmentAzurite(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<DevelopmentOptions>().BindConfiguration(DevelopmentOptions.Section);
        if (environment.IsDevelopment() && configuration.GetValue<bool>($"{DevelopmentOptions.Section}:{nameof(DevelopmentOptions.StartAzurite)}"))
        {
            services.AddHostedService<AzuriteHostedService>();
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
