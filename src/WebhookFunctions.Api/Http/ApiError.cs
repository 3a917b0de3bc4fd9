using System.Text.Json.Serialization;
using WebhookFunctions.Core.Failures;

namespace WebhookFunctions.Api.Http;

/// <summary>The error envelope every non-2xx response carries.</summary>
public sealed record ApiError(
    string Error,
    string Message,
    int Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ErrorDetail>? Details,
    string RequestId);


