using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace UserService.Infrastructure;

/// <summary>
/// A <see cref="TimeSpan"/> option between two bounds, written as TimeSpan literals ("00:00:01"): what
/// <c>[Range(typeof(TimeSpan), …)]</c> says, without the type conversion by reflection that trimming and
/// Native AOT cannot keep. The options validation source generator calls it like any validation attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class TimeSpanRangeAttribute(string minimum, string maximum) : ValidationAttribute("The field {0} must be between {1} and {2}.")
{
    public TimeSpan Minimum { get; } = TimeSpan.Parse(minimum, CultureInfo.InvariantCulture);

    public TimeSpan Maximum { get; } = TimeSpan.Parse(maximum, CultureInfo.InvariantCulture);

    public override bool IsValid(object? value) => value is not TimeSpan span || (span >= Minimum && span <= Maximum);

    public override string FormatErrorMessage(string name) =>
        string.Format(CultureInfo.CurrentCulture, ErrorMessageString, name, Minimum, Maximum);
}
