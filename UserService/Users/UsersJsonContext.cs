using System.Text.Json;
using System.Text.Json.Serialization;

namespace UserService.Users;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(User))]
[JsonSerializable(typeof(UserFields))]
[JsonSerializable(typeof(UserRequest))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(UserResponse[]))]
internal sealed partial class UsersJsonContext : JsonSerializerContext;
