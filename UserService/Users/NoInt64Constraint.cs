using System.Globalization;

namespace UserService.Users;

/// <summary>A route value that is no 64-bit integer, which the <c>long</c> constraint refuses: an id no user can have.</summary>
internal sealed class NoInt64Constraint : IRouteConstraint
{
    public const string Name = "nolong";

    public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
        values.TryGetValue(routeKey, out var value)
        && !long.TryParse(Convert.ToString(value, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
}
