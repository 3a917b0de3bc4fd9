using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Events;
using WebhookFunctions.Api.Health;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Api.Idempotency;
using WebhookFunctions.Api.Jobs;
using WebhookFunctions.Api.Limits;
using WebhookFunctions.Api.OpenApi;
using WebhookFunctions.Api.Tenancy;
using WebhookFunctions.Api.Webhooks;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Hosting;

namespace WebhookFunctions.Api.Hosting;

public static class HttpApiHostingExtensions
{
    /// <summary>The HTTP API over the domain: the gate and its rate limits, the edge that maps failures, idempotency and the endpoint handlers both hosts call.</summary>
    public static IHostApplicationBuilder AddWebhookHttpApi(this IHostApplicationBuilder builder)
    {
        builder.AddWebhookDelivery();
        var services = builder.Services;
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ApiRateLimits>();
        services.AddSingleton<ApiExecution>();
        services.AddSingleton<IdempotencyService>();
        services.AddSingleton<ApiGate>();
        services.AddSingleton<WebhookEndpoints>();
        services.AddSingleton<EventEndpoints>();
        services.AddSingleton<JobEndpoints>();
        services.AddSingleton<Verification.VerificationEndpoints>();
        services.AddSingleton<TenancyEndpoints>();
        services.AddSingleton<HealthEndpoints>();
        services.AddSingleton<OpenApiEndpoints>();
        return builder;
    }
}
