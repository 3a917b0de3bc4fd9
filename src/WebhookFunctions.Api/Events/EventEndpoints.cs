using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using WebhookFunctions.Api.Auth;
using WebhookFunctions.Api.Http;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Paging;

namespace WebhookFunctions.Api.Events;

/// <summary>Publishing and the delivery record, as host-neutral handlers both hosts call.</summary>
public sealed class EventEndpoints(
    ApiExecution execution, EventValidator validator, EventPublisher publisher, DeliveryQueries queries, IOptions<EventOptions> options)
{
    private readonly int _maxBodyBytes = options.Value.MaxBodyBytes;

    public Task<IResult> PublishAsync(HttpContext httpContext, string applicationId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            RouteIds.Require(("applicationId", applicationId));
            using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: true, _maxBodyBytes, cancellationToken);
            var draft = validator.Parse(body!.RootElement);
            var published = await publisher.PublishAsync(caller, applicationId, draft, cancellationToken);
            var response = EventResponse.From(published.Event);
            var location = $"/{Routes.Prefix}/v1/applications/{applicationId}/events/{response.Id}";
            return published.Replayed ? ApiResults.Replayed(response, location) : ApiResults.Accepted(location, response);
        });

    public Task<IResult> ListAsync(HttpContext httpContext, string applicationId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            RouteIds.Require(("applicationId", applicationId));
            var (limit, after) = ListQuery.Read(httpContext.Request);
            var eventType = ListQuery.ReadSingle(httpContext.Request, "eventType");
            var page = await queries.ListEventsAsync(caller, applicationId, eventType, limit, after, cancellationToken);
            return ApiResults.Ok(new Page<EventResponse>(page.Items.Select(EventResponse.From).ToList(), page.NextPageToken));
        });

    public Task<IResult> GetAsync(HttpContext httpContext, string applicationId, string eventId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            RouteIds.Require(("applicationId", applicationId), ("eventId", eventId));
            var (e, deliveries) = await queries.GetEventAsync(caller, applicationId, eventId, cancellationToken);
            return ApiResults.Ok(EventDetailResponse.From(e, deliveries));
        });

    public Task<IResult> ListDeliveriesAsync(HttpContext httpContext, string applicationId, string webhookId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            RouteIds.Require(("applicationId", applicationId), ("webhookId", webhookId));
            var (limit, after) = ListQuery.Read(httpContext.Request);
            var status = ListQuery.ReadSingle(httpContext.Request, "status");
            var page = await queries.ListDeliveriesAsync(caller, applicationId, webhookId, status, limit, after, cancellationToken);
            return ApiResults.Ok(new Page<DeliveryResponse>(page.Items.Select(DeliveryResponse.From).ToList(), page.NextPageToken));
        });

    public Task<IResult> ListAttemptsAsync(HttpContext httpContext, string applicationId, string webhookId, string eventId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            RouteIds.Require(("applicationId", applicationId), ("webhookId", webhookId), ("eventId", eventId));
            var attempts = await queries.ListAttemptsAsync(caller, applicationId, webhookId, eventId, cancellationToken);
            return ApiResults.Ok(new AttemptList(attempts.Select(AttemptResponse.From).ToList()));
        });

    public Task<IResult> ResendAsync(HttpContext httpContext, string applicationId, string webhookId, string eventId) =>
        execution.RunAsync(httpContext, async cancellationToken =>
        {
            var caller = CallerContext.Of(httpContext);
            RouteIds.Require(("applicationId", applicationId), ("webhookId", webhookId), ("eventId", eventId));
            using var body = await RequestBody.ReadObjectAsync(httpContext.Request, required: false, cancellationToken);
            if (body is not null && body.RootElement.EnumerateObject().Any())
            {
                throw new ValidationException(body.RootElement.EnumerateObject().Select(p => Core.Validation.JsonFields.Unrecognised(p.Name)).ToList());
            }

            await queries.ResendAsync(caller, applicationId, webhookId, eventId, cancellationToken);
            return ApiResults.Json(StatusCodes.Status202Accepted, new ResendResponse(webhookId, eventId, "QUEUED"));
        });
}
