namespace UserService.Users;

/// <summary>The scopes a token needs; each is also the name of the authorization policy that demands it.</summary>
public static class UsersScopes
{
    public const string Read = "users:read";
    public const string Write = "users:write";
}
