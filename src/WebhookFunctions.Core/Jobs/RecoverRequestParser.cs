using System.Text.Json;
using WebhookFunctions.Core.Delivery;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Validation;

namespace WebhookFunctions.Core.Jobs;

/// <summary>Reads a recover body; every problem is collected, so one 400 lists them all. Rules that need the clock are the service's.</summary>
public static class RecoverRequestParser
{
    /// <summary>What a recovery may bring back: deliveries whose attempts ended. Pending and succeeded ones are not missed.</summary>
    public static readonly IReadOnlyList<string> Recoverable = [DeliveryStatus.Failed, DeliveryStatus.Skipped];

    public static RecoverRequest Parse(JsonElement body)
    {
        var errors = new List<ErrorDetail>();
        DateTimeOffset? since = null, until = null;
        List<string>? statuses = null;
        var dryRun = false;
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "since":
                    since = JsonFields.ReadTimestamp(property.Value, "since", errors);
                    break;
                case "until":
                    until = property.Value.ValueKind == JsonValueKind.Null ? null : JsonFields.ReadTimestamp(property.Value, "until", errors);
                    break;
                case "statuses":
                    statuses = ReadStatuses(property.Value, errors);
                    break;
                case "dryRun":
                    dryRun = JsonFields.ReadBoolean(property.Value, "dryRun", errors) ?? false;
                    break;
                default:
                    errors.Add(JsonFields.Unrecognised(property.Name));
                    break;
            }
        }

        if (!body.TryGetProperty("since", out _))
        {
            errors.Add(new ErrorDetail("since", "Is required: an ISO 8601 timestamp within the retention period"));
        }

        if (since is { } from && until is { } to && from >= to)
        {
            errors.Add(new ErrorDetail("since", "Must be before until"));
        }

        return errors.Count > 0
            ? throw new ValidationException(errors)
            : new RecoverRequest(since!.Value, until, statuses ?? [DeliveryStatus.Failed], dryRun);
    }

    private static List<string>? ReadStatuses(JsonElement value, List<ErrorDetail> errors)
    {
        const string Rule = "Must be a non-empty list of FAILED and SKIPPED";
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            errors.Add(new ErrorDetail("statuses", Rule));
            return null;
        }

        var statuses = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            var status = item.ValueKind == JsonValueKind.String ? item.GetString() : null;
            if (status is null || !Recoverable.Contains(status, StringComparer.Ordinal))
            {
                errors.Add(new ErrorDetail("statuses", Rule));
                return null;
            }

            if (!statuses.Contains(status, StringComparer.Ordinal))
            {
                statuses.Add(status);
            }
        }

        return statuses;
    }
}
