namespace UserService.Users;

/// <summary>A user as the store keeps it.</summary>
public sealed record User(long Id, string Username, string Email);
