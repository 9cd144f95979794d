using System.Security.Claims;

namespace UserService.Infrastructure;

/// <summary>Who is calling, as the rate limits and idempotency keys tell callers apart.</summary>
public static class Callers
{
    /// <summary>The token's subject, or its client id for a client acting on its own; null without a valid token.</summary>
    public static string? IdOf(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true
            ? (user.FindFirst("sub") ?? user.FindFirst("client_id") ?? user.FindFirst("azp"))?.Value
            : null;
}
