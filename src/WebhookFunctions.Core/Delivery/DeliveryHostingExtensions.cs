using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Hosting;
using WebhookFunctions.Core.Jobs;

namespace WebhookFunctions.Core.Delivery;

public static class DeliveryHostingExtensions
{
    private sealed class Marker;

    /// <summary>
    /// Publishing and delivery: the queues, the processors the queue functions (or the standalone
    /// host's workers) call, and the sweep. Builds on <see cref="CoreHostingExtensions.AddWebhookCore"/>.
    /// </summary>
    public static IHostApplicationBuilder AddWebhookDelivery(this IHostApplicationBuilder builder)
    {
        builder.AddWebhookCore();
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(Marker)))
        {
            return builder;
        }

        services.AddSingleton<Marker>();
        services.AddOptions<DeliveryOptions>().BindConfiguration(DeliveryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EventOptions>().BindConfiguration(EventOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<QueueSignals>();
        services.TryAddSingleton<DeliveryQueues>();
        services.AddHostedService<QueueInitializer>();
        services.AddSingleton<EventStore>();
        services.AddSingleton<EventValidator>();
        services.AddSingleton<RetryPolicy>();
        services.AddSingleton<EventPublisher>();
        services.AddSingleton<FanOutProcessor>();
        services.AddSingleton<AttemptProcessor>();
        services.AddSingleton<Throttling.DeliveryThrottle>();
        services.AddSingleton<DeliveryQueries>();
        services.AddSingleton<DeliverySweeper>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<RecoverStore>();
        services.AddSingleton<RecoverService>();
        services.AddSingleton<JobProcessor>();
        return builder;
    }

    /// <summary>Creates the work queues and their poison queues before any worker starts.</summary>
    private sealed class QueueInitializer(DeliveryQueues queues) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => queues.CreateAllAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
