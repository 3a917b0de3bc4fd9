using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebhookFunctions.Core.Delivery;

namespace WebhookFunctions.Core.Verification;

public static class VerificationHostingExtensions
{
    /// <summary>
    /// Ownership verification. Part of the core, since creating or re-pointing a webhook asks for a challenge;
    /// that needs the verification queue, so the queues (and their prefix) are known here too.
    /// </summary>
    public static IServiceCollection AddWebhookVerification(this IServiceCollection services)
    {
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section);
        services.TryAddSingleton<QueueSignals>();
        services.TryAddSingleton<DeliveryQueues>();
        services.AddSingleton<VerificationLinks>();
        services.AddSingleton<VerificationStore>();
        services.AddSingleton<VerificationRequests>();
        services.AddSingleton<VerificationGate>();
        services.AddSingleton<VerificationService>();
        services.AddSingleton<ChallengeProcessor>();
        return services;
    }
}
