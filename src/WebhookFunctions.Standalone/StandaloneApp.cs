using WebhookFunctions.Api.Hosting;
using WebhookFunctions.Api.Telemetry;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Verification;
using WebhookFunctions.Standalone.Development;
using WebhookFunctions.Standalone.Maintenance;

namespace WebhookFunctions.Standalone;

/// <summary>The standalone host: the library's endpoints on plain ASP.NET Core.</summary>
public static class StandaloneApp
{
    /// <param name="args">Command-line arguments, which also carry configuration (<c>--Section:Key=value</c>).</param>
    /// <param name="configure">Lets tests adjust the registered services and logging before the app is built.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);

        builder.Configuration.UseRepositoryKeyFile(builder.Environment);

        // No "Server: Kestrel" on any response: it tells a caller nothing it needs and an attacker what to try.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);

        // Hosted services start in registration order: Azurite must listen before the tables are created.
        builder.Services.AddDevelopmentAzurite(builder.Configuration, builder.Environment);
        builder.AddWebhookHttpApi();
        builder.AddDeliveryWorkers();
        builder.AddWebhookTelemetry();
        builder.Services.AddDemoSeed(builder.Configuration, builder.Environment);
        builder.Services.AddHostedService<OrphanSecretSweepService>();
        configure?.Invoke(builder);

        var app = builder.Build();

        // Verification links point at this host unless Webhooks:PublicBaseUrl says otherwise; its port is known only once it listens.
        app.Lifetime.ApplicationStarted.Register(() => app.Services.GetRequiredService<VerificationLinks>()
            .Listening(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses));
        app.UseWebhookApi();
        app.MapWebhookApi();
        return app;
    }
}
